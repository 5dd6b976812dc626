/*
 * adminline.c - the operators' account verbs on the admin socket
 * (`bourse admin account ...`, `kyc ...`, `funding ...`), parsed once for
 * the client (which checks every line before sending it) and the server
 * (which checks it again: a line is input like any other).
 *
 *   account signup USER EMAIL HASH          HASH: an argon2id string
 *   account kyc USER DOB COUNTRY IDNUM DOC LEGAL NAME...
 *                                           DOC: sha256:HEX:TYPE:SIZE of a
 *                                           stored document (the client
 *                                           turns a file name into it)
 *   account suspend|close USER [REASON...]  account resume USER
 *   account operator USER [revoke]
 *   kyc approve USER                        kyc reject USER REASON...
 *   funding deposit|withdraw USER ASSET AMOUNT
 *   funding approve ID                      funding reject ID REASON...
 * Questions (not journaled): `account list`, `account show USER`,
 * `kyc queue`, `funding list [pending|approved|rejected]`.
 *
 * `account USER` alone stays the older question (balances and open
 * orders): the verbs are reserved words no sign-up may take as a name.
 */
#include "accounts/accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXW = 8 };

typedef struct words {
    const char *w[MAXW];
    size_t n[MAXW];
    int count;
    const char *rest[MAXW]; /* the line from word i on */
    const char *end;
} words;

static void split(const char *line, size_t len, words *out)
{
    const char *p = line, *end = line + len;
    out->count = 0;
    out->end = end;
    while (p < end && out->count < MAXW) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            break;
        const char *s = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        out->w[out->count] = out->rest[out->count] = s;
        out->n[out->count++] = (size_t)(p - s);
    }
}

static int is(const words *w, int i, const char *lit)
{
    return i < w->count && w->n[i] == strlen(lit) && memcmp(w->w[i], lit, w->n[i]) == 0;
}

static int bad(acct_err *err, const char *msg)
{
    err->code = "BAD_FIELD";
    err->field[0] = 0;
    snprintf(err->message, sizeof err->message, "%s", msg);
    return ACCT_LINE_BAD;
}

/* Copy word i (or the rest of the line from it, trimmed) into dst. */
static int take(const words *w, int i, int rest, char *dst, size_t size)
{
    if (i >= w->count)
        return -1;
    size_t n = w->n[i];
    if (rest) {
        n = (size_t)(w->end - w->rest[i]);
        while (n && (w->rest[i][n - 1] == ' ' || w->rest[i][n - 1] == '\t' || w->rest[i][n - 1] == '\r'))
            n--;
    }
    if (n >= size)
        return -1;
    memcpy(dst, w->w[i], n);
    dst[n] = 0;
    return 0;
}

static int user_arg(const words *w, int i, acct_line *out, acct_err *err)
{
    if (take(w, i, 0, out->cmd.user, sizeof out->cmd.user) != 0 || !out->cmd.user[0])
        return bad(err, "a user name (1-16 characters) is needed");
    return 0;
}

static int doc_arg(const char *s, acct_line *out, acct_err *err)
{
    char type[16];
    unsigned long size;
    int used = 0;
    if (strncmp(s, "sha256:", 7) != 0) { /* a file: the client stores it first */
        snprintf(out->doc_file, sizeof out->doc_file, "%s", s);
        return 0;
    }
    if (strlen(s) < 7 + 64 + 1 || s[7 + 64] != ':' ||
        sscanf(s + 7 + 65, "%15[a-z]:%lu%n", type, &size, &used) != 2 || s[7 + 65 + used] ||
        !acct_doc_type_of(type) || !size || size > ACCT_DOC_MAX)
        return bad(err, "DOC is sha256:HEX:TYPE:SIZE (TYPE png, jpeg or pdf) or a file name");
    for (int i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", s[7 + i]))
            return bad(err, "the document's sha256 is 64 lower-case hex digits");
    memcpy(out->cmd.doc_sha256, s + 7, 64);
    out->cmd.doc_sha256[64] = 0;
    snprintf(out->cmd.doc_type, sizeof out->cmd.doc_type, "%s", type);
    out->cmd.doc_size = (uint32_t)size;
    return 0;
}

static int parse_account(const words *w, uint32_t today, acct_line *out, acct_err *err)
{
    bourse_account_cmd *c = &out->cmd;
    if (is(w, 1, "list") && w->count == 2)
        return out->question = ACCT_Q_LIST, ACCT_LINE_QUESTION;
    if (is(w, 1, "show")) {
        if (w->count != 3 || user_arg(w, 2, out, err))
            return bad(err, "usage: account show USER");
        return out->question = ACCT_Q_SHOW, ACCT_LINE_QUESTION;
    }
    if (is(w, 1, "signup")) {
        if ((w->count != 4 && w->count != 5) || user_arg(w, 2, out, err))
            return bad(
                err, "usage: account signup USER EMAIL [HASH] (bourse admin reads the password from stdin)");
        c->op = BOURSE_AOP_SIGNUP;
        if (acct_check_username(c->user, err) || take(w, 3, 0, c->email, sizeof c->email) ||
            acct_check_email(c->email, err))
            return err->code ? ACCT_LINE_BAD : bad(err, "bad e-mail address");
        if (w->count == 4)
            return out->needs_password = 1, ACCT_LINE_CMD;
        if (take(w, 4, 0, c->hash, sizeof c->hash) || strncmp(c->hash, "$argon2id$", 10) != 0)
            return bad(err, "HASH is an argon2id string ($argon2id$...)");
        return ACCT_LINE_CMD;
    }
    if (is(w, 1, "kyc")) {
        char dob[16], country[8], idn[40], doc[300];
        if (w->count < 8 || user_arg(w, 2, out, err) || take(w, 3, 0, dob, sizeof dob) ||
            take(w, 4, 0, country, sizeof country) || take(w, 5, 0, idn, sizeof idn) ||
            take(w, 6, 0, doc, sizeof doc) || take(w, 7, 1, c->legal_name, sizeof c->legal_name))
            return bad(err, "usage: account kyc USER YYYY-MM-DD COUNTRY ID-NUMBER DOC LEGAL NAME...");
        if (acct_check_kyc(c->legal_name, dob, country, idn, today, err) || doc_arg(doc, out, err))
            return ACCT_LINE_BAD;
        c->op = BOURSE_AOP_KYC;
        memcpy(c->dob, dob, sizeof c->dob); /* checked: 10 characters, 2, at most 32 */
        memcpy(c->country, country, sizeof c->country);
        memcpy(c->id_number, idn, sizeof c->id_number);
        return ACCT_LINE_CMD;
    }
    static const struct {
        const char *verb;
        int op, reason; /* reason: 0 none, 1 optional */
    } simple[] = {{"suspend", BOURSE_AOP_SUSPEND, 1},
                  {"close", BOURSE_AOP_CLOSE, 1},
                  {"resume", BOURSE_AOP_RESUME, 0},
                  {"operator", BOURSE_AOP_OPERATOR, 0}};
    for (size_t i = 0; i < sizeof simple / sizeof *simple; i++) {
        if (!is(w, 1, simple[i].verb))
            continue;
        int revoke = simple[i].op == BOURSE_AOP_OPERATOR && w->count == 4 && is(w, 3, "revoke");
        if (w->count < 3 || user_arg(w, 2, out, err) || (!simple[i].reason && w->count > 3 && !revoke))
            return bad(err, "usage: account suspend|close USER [REASON...], account resume USER, account "
                            "operator USER [revoke]");
        c->op = (uint8_t)simple[i].op;
        c->flag = !revoke;
        if (simple[i].reason && w->count > 3 &&
            (take(w, 3, 1, c->reason, sizeof c->reason) || acct_check_reason(c->reason, err)))
            return err->code ? ACCT_LINE_BAD : bad(err, "the reason is too long");
        return ACCT_LINE_CMD;
    }
    return ACCT_LINE_NONE; /* `account USER`: the older question */
}

static int parse_id(const words *w, int i, uint64_t *id)
{
    char buf[24], *end;
    if (take(w, i, 0, buf, sizeof buf) || buf[0] < '1' || buf[0] > '9')
        return -1;
    *id = strtoull(buf, &end, 10);
    return *end ? -1 : 0;
}

int acct_line_parse(const char *line, size_t len, uint32_t today, acct_line *out, acct_err *err)
{
    words w;
    memset(out, 0, sizeof *out);
    *err = (acct_err){0};
    split(line, len, &w);
    bourse_account_cmd *c = &out->cmd;
    if (is(&w, 0, "account") && w.count >= 2)
        return parse_account(&w, today, out, err);
    if (is(&w, 0, "kyc")) {
        if (is(&w, 1, "queue") && w.count == 2)
            return out->question = ACCT_Q_KYC_QUEUE, ACCT_LINE_QUESTION;
        if (is(&w, 1, "approve") && w.count == 3 && !user_arg(&w, 2, out, err))
            return c->op = BOURSE_AOP_APPROVE, ACCT_LINE_CMD;
        if (is(&w, 1, "reject") && w.count >= 4 && !user_arg(&w, 2, out, err)) {
            if (take(&w, 3, 1, c->reason, sizeof c->reason) || acct_check_reason(c->reason, err))
                return err->code ? ACCT_LINE_BAD : bad(err, "the reason is too long");
            return c->op = BOURSE_AOP_REJECT, ACCT_LINE_CMD;
        }
        return bad(err, "usage: kyc queue | kyc approve USER | kyc reject USER REASON...");
    }
    if (is(&w, 0, "funding")) {
        if (is(&w, 1, "list") && w.count <= 3) {
            if (w.count == 3 && !is(&w, 2, "pending") && !is(&w, 2, "approved") && !is(&w, 2, "rejected"))
                return bad(err, "usage: funding list [pending|approved|rejected]");
            take(&w, 2, 0, out->arg, sizeof out->arg);
            return out->question = ACCT_Q_FUNDING, ACCT_LINE_QUESTION;
        }
        if ((is(&w, 1, "deposit") || is(&w, 1, "withdraw")) && w.count == 5 && !user_arg(&w, 2, out, err)) {
            char amount[40];
            if (take(&w, 3, 0, c->asset, sizeof c->asset) || take(&w, 4, 0, amount, sizeof amount))
                return bad(err, "usage: funding deposit|withdraw USER CASH|SYMBOL AMOUNT");
            if (acct_parse_amount(amount, strcmp(c->asset, "CASH") == 0, &c->amount, err))
                return ACCT_LINE_BAD;
            return c->op = is(&w, 1, "deposit") ? BOURSE_AOP_DEPOSIT : BOURSE_AOP_WITHDRAW, ACCT_LINE_CMD;
        }
        if (is(&w, 1, "approve") && w.count == 3 && !parse_id(&w, 2, &c->funding_id))
            return c->op = BOURSE_AOP_FUND_APPROVE, ACCT_LINE_CMD;
        if (is(&w, 1, "reject") && w.count >= 4 && !parse_id(&w, 2, &c->funding_id)) {
            if (take(&w, 3, 1, c->reason, sizeof c->reason) || acct_check_reason(c->reason, err))
                return err->code ? ACCT_LINE_BAD : bad(err, "the reason is too long");
            return c->op = BOURSE_AOP_FUND_REJECT, ACCT_LINE_CMD;
        }
        return bad(err, "usage: funding list [STATE] | funding deposit|withdraw USER ASSET AMOUNT | funding "
                        "approve ID | funding reject ID REASON...");
    }
    return ACCT_LINE_NONE;
}

size_t acct_line_format(const acct_line *l, char *out, size_t size)
{
    const bourse_account_cmd *c = &l->cmd;
    if (c->op == BOURSE_AOP_SIGNUP)
        return (size_t)snprintf(out, size, "account signup %s %s %s", c->user, c->email, c->hash);
    if (c->op == BOURSE_AOP_KYC)
        return (size_t)snprintf(out, size, "account kyc %s %s %s %s sha256:%s:%s:%u %s", c->user, c->dob,
                                c->country, c->id_number, c->doc_sha256, c->doc_type, c->doc_size,
                                c->legal_name);
    return 0;
}
