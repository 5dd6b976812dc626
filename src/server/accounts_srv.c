/*
 * accounts_srv.c - the accounts (bourse/account.h) in the server: the
 * operators' questions about them, and the password hashes of signed-up
 * users for order-entry logins.
 *
 * Hashes.  A sign-up's argon2id hash travels in the journal (never the
 * password), so it is recovered and replicated with the account; the auth
 * thread (auth.c) must see it without reading the engine, which only the
 * engine thread may.  The engine thread copies each hash here as it applies
 * a sign-up (and all of them at start), under a mutex: sign-ups and logins
 * of unknown-to-DIR/passwords users are rare, and neither is on the order
 * path.  DIR/passwords, for users made the old way, is asked first.
 *
 * Finding an account.  Every HTTP request asks for its user's state
 * (srv_acct_status_get), so with tens of thousands of accounts a linear
 * search under the mutex would be the request's biggest cost and would
 * hold the auth thread and the engine's srv_acct_note behind it.  The
 * entries stay in one array (in the order made, never removed); beside it
 * an open-addressing table of entry numbers (+1, 0 = empty), indexed by
 * a hash of the user name and probed linearly, at most half full, made
 * again twice as big when it would pass that.  No entry is ever removed,
 * so no tombstones are needed.
 *
 * Questions: `account list`, `account show USER`, `kyc queue`, `funding
 * list [STATE]`, one line each (docs/accounts.md has the formats), answered
 * on the engine thread between two commands like every IN_QUERY.
 */
#include "accounts/accounts.h"
#include "server/server.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct srv_acct_hash {
    char user[BOURSE_NAME_LEN + 1];
    char hash[BOURSE_ACCOUNT_HASH_MAX + 1];
    srv_acct_status st;
};

static struct srv_acct_hash *slot_of(srv *s, const char *user);
static struct srv_acct_hash *find(srv *s, const char *user);

void srv_acct_hash_put(srv *s, const char *user, const char *hash)
{
    pthread_mutex_lock(&s->acct_mu);
    struct srv_acct_hash *h = slot_of(s, user);
    if (h)
        snprintf(h->hash, sizeof h->hash, "%s", hash);
    pthread_mutex_unlock(&s->acct_mu);
}

void srv_acct_note(srv *s, const bourse_account *a)
{
    pthread_mutex_lock(&s->acct_mu);
    struct srv_acct_hash *h = slot_of(s, a->user);
    if (h) {
        snprintf(h->hash, sizeof h->hash, "%s", a->hash);
        h->st.state = a->state;
        h->st.operator_role = a->operator_role;
        snprintf(h->st.reason, sizeof h->st.reason, "%s", a->reason);
        h->st.version++;
        s->acct_gen++;
    }
    pthread_mutex_unlock(&s->acct_mu);
}

int srv_acct_status_get(srv *s, const char *user, srv_acct_status *out)
{
    pthread_mutex_lock(&s->acct_mu);
    struct srv_acct_hash *h = find(s, user);
    if (h)
        *out = h->st;
    pthread_mutex_unlock(&s->acct_mu);
    return h != NULL;
}

uint64_t srv_acct_gen(srv *s)
{
    pthread_mutex_lock(&s->acct_mu);
    uint64_t g = s->acct_gen;
    pthread_mutex_unlock(&s->acct_mu);
    return g;
}

/* FNV-1a of the name: names are short and chosen by users, and a table
 * at most half full keeps the probes short even for similar names. */
static uint32_t name_hash(const char *user)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)user; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* The table slot holding user's entry, or the empty slot where it would
 * go (under acct_mu; the table exists). */
static uint32_t *probe(srv *s, const char *user)
{
    uint32_t mask = s->acct_index_cap - 1;
    for (uint32_t i = name_hash(user) & mask;; i = (i + 1) & mask) {
        uint32_t e = s->acct_index[i];
        if (e == 0 || strcmp(s->acct_hashes[e - 1].user, user) == 0)
            return &s->acct_index[i];
    }
}

static struct srv_acct_hash *find(srv *s, const char *user)
{
    if (!s->acct_index_cap)
        return NULL;
    uint32_t e = *probe(s, user);
    return e ? &s->acct_hashes[e - 1] : NULL;
}

/* A table for at least n entries, at most half full; 0 or -1 (out of
 * memory: the old table stays). */
static int reindex(srv *s, uint32_t n)
{
    uint32_t cap = s->acct_index_cap ? s->acct_index_cap : 128;
    while (cap / 2 < n)
        cap *= 2;
    if (cap == s->acct_index_cap)
        return 0;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    free(s->acct_index);
    s->acct_index = t, s->acct_index_cap = cap;
    for (uint32_t i = 0; i < s->nacct_hashes; i++)
        *probe(s, s->acct_hashes[i].user) = i + 1;
    return 0;
}

/* The user's entry, made when new (under acct_mu); NULL when out of memory. */
static struct srv_acct_hash *slot_of(srv *s, const char *user)
{
    struct srv_acct_hash *found = find(s, user);
    if (found)
        return found;
    uint32_t i = s->nacct_hashes;
    if (i == s->acct_hashes_cap) {
        uint32_t cap = s->acct_hashes_cap ? s->acct_hashes_cap * 2 : 64;
        struct srv_acct_hash *h = realloc(s->acct_hashes, cap * sizeof *h);
        if (!h)
            goto oom;
        s->acct_hashes = h, s->acct_hashes_cap = cap;
    }
    if (reindex(s, i + 1) != 0)
        goto oom;
    s->nacct_hashes++;
    memset(&s->acct_hashes[i], 0, sizeof s->acct_hashes[i]);
    snprintf(s->acct_hashes[i].user, sizeof s->acct_hashes[i].user, "%s", user);
    *probe(s, s->acct_hashes[i].user) = i + 1;
    return &s->acct_hashes[i];
oom:
    srv_log("out of memory keeping the password of account %s: it cannot log in", user);
    return NULL;
}

int srv_acct_hash_get(srv *s, const char *user, char *hash, size_t size)
{
    pthread_mutex_lock(&s->acct_mu);
    struct srv_acct_hash *h = find(s, user);
    if (h)
        snprintf(hash, size, "%s", h->hash);
    pthread_mutex_unlock(&s->acct_mu);
    return h != NULL;
}

void srv_acct_hashes_load(srv *s, const bourse_engine *e)
{
    bourse_account a;
    for (uint32_t i = 0; bourse_account_at(e, i, &a) == 0; i++)
        srv_acct_note(s, &a);
}

/* ---- questions ---- */

typedef struct out {
    srv_line_fn fn;
    void *ctx;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    char line[BOURSE_TEXT_LINE_MAX * 4];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    /* A srv_text carries BOURSE_TEXT_LINE_MAX bytes: a longer line (an
     * e-mail and a legal name) goes in pieces, which the admin socket
     * writes one after the other. */
    for (int off = 0; off < n; off += BOURSE_TEXT_LINE_MAX)
        o->fn(o->ctx, line + off, (size_t)(n - off < BOURSE_TEXT_LINE_MAX ? n - off : BOURSE_TEXT_LINE_MAX));
}

static void amount(const bourse_funding *f, char *buf)
{
    if (strcmp(f->asset, "CASH") == 0)
        buf[bourse_text_decimal(f->amount, buf)] = 0;
    else
        snprintf(buf, 32, "%lld", (long long)f->amount);
}

void srv_acct_query(const bourse_engine *e, const bourse_cmd *q, srv_line_fn fn, void *ctx)
{
    out o = {fn, ctx};
    bourse_account a;
    char arg[BOURSE_NAME_LEN + 1] = {0};
    memcpy(arg, q->user_name.s, BOURSE_NAME_LEN);
    switch (q->type - ADMIN_Q_ACCT) {
    case ACCT_Q_LIST: /* ACCOUNT USER STATE ROLE EMAIL */
        for (uint32_t i = 0; bourse_account_at(e, i, &a) == 0; i++)
            put(&o, "ACCOUNT %s %s %s %s", a.user, bourse_account_state_name(a.state),
                a.operator_role ? "operator" : "user", a.email);
        break;
    case ACCT_Q_SHOW: {
        int i = bourse_account_find(e, arg, strlen(arg));
        if (i < 0 || bourse_account_at(e, (uint32_t)i, &a) != 0) {
            put(&o, "! no account %s", arg);
            break;
        }
        put(&o, "ACCOUNT %s %s %s %s", a.user, bourse_account_state_name(a.state),
            a.operator_role ? "operator" : "user", a.email);
        if (a.submitted_ns)
            put(&o, "KYC %s %s %s %s sha256:%s:%s:%u %s", a.user, a.dob, a.country, a.id_number, a.doc_sha256,
                a.doc_type, a.doc_size, a.legal_name);
        if (a.reason[0])
            put(&o, "REASON %s %s", a.user, a.reason);
        break;
    }
    case ACCT_Q_KYC_QUEUE: /* KYC USER DOB COUNTRY IDNUM DOC SUBMITTED-NS LEGAL NAME */
        for (uint32_t i = 0; bourse_account_at(e, i, &a) == 0; i++)
            if (a.state == BOURSE_AS_KYC_PENDING)
                put(&o, "KYC %s %s %s %s sha256:%s:%s:%u %lld %s %s", a.user, a.dob, a.country, a.id_number,
                    a.doc_sha256, a.doc_type, a.doc_size, (long long)a.submitted_ns, a.email, a.legal_name);
        break;
    case ACCT_Q_FUNDING: { /* FUNDING ID USER KIND ASSET AMOUNT STATE [REASON] */
        bourse_funding f;
        for (uint32_t i = 0; bourse_funding_at(e, i, &f) == 0; i++) {
            const char *st = bourse_funding_state_name(f.state);
            if (arg[0] && strcmp(arg, st) != 0)
                continue;
            char amt[32];
            amount(&f, amt);
            put(&o, "FUNDING %llu %s %s %s %s %s%s%s", (unsigned long long)f.id, f.user,
                f.kind == BOURSE_AOP_DEPOSIT ? "deposit" : "withdrawal", f.asset, amt, st,
                f.reason[0] ? " " : "", f.reason);
        }
        break;
    }
    default: put(&o, "! unknown query"); break;
    }
}

/* ---- [accounts] at start ---- */

static void send(void (*run)(void *ctx, const bourse_cmd *c), void *ctx, const bourse_account_cmd *a)
{
    bourse_cmd f[BOURSE_ACCOUNT_FRAGMENTS];
    size_t n = bourse_account_encode(a, f);
    for (size_t i = 0; i < n; i++)
        run(ctx, &f[i]);
}

/* dev_mode: an active operator `admin` with a random password, said once in
 * the log (there is no other copy: delete the data directory, or suspend
 * and recreate, to get another). */
static void dev_admin(const bourse_engine *e, void (*run)(void *ctx, const bourse_cmd *c), void *ctx)
{
    if (bourse_account_find(e, "admin", 5) >= 0 || bourse_user_find(e, "admin", 5) != BOURSE_NONE)
        return;
    static const char abc[] = "abcdefghijkmnpqrstuvwxyz23456789";
    char pw[17];
    unsigned char r[16];
    randombytes_buf(r, sizeof r);
    for (int i = 0; i < 16; i++)
        pw[i] = abc[r[i] & 31];
    pw[16] = 0;
    bourse_account_cmd a = {.op = BOURSE_AOP_SIGNUP};
    strcpy(a.user, "admin");
    strcpy(a.email, "admin@localhost.invalid");
    if (acct_hash_password(pw, 0, a.hash) != 0) {
        srv_log("dev mode: cannot hash a password: no operator made");
        return;
    }
    send(run, ctx, &a);
    a = (bourse_account_cmd){.op = BOURSE_AOP_KYC, .doc_size = 1};
    strcpy(a.user, "admin"), strcpy(a.legal_name, "Development Operator"), strcpy(a.dob, "1970-01-01");
    strcpy(a.country, "FR"), strcpy(a.id_number, "DEV0"), strcpy(a.doc_type, "none");
    memset(a.doc_sha256, '0', 64);
    send(run, ctx, &a);
    a = (bourse_account_cmd){.op = BOURSE_AOP_APPROVE};
    strcpy(a.user, "admin");
    send(run, ctx, &a);
    a.op = BOURSE_AOP_OPERATOR, a.flag = 1;
    send(run, ctx, &a);
    srv_log("dev mode: operator account admin, password %s (said once; deposits are approved at once)", pw);
}

void srv_acct_start(srv *s, const bourse_engine *e, void (*run)(void *ctx, const bourse_cmd *c), void *ctx)
{
    if (s->cfg->accounts_dev_mode)
        dev_admin(e, run, ctx);
    const char *p = s->cfg->accounts_operators;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t n = strcspn(p, " ,\t");
        if (!n)
            break;
        bourse_account a;
        int i = bourse_account_find(e, p, n);
        if (i < 0 || bourse_account_at(e, (uint32_t)i, &a) != 0)
            srv_log("[accounts] operators: no account %.*s (sign it up first)", (int)n, p);
        else if (!a.operator_role && a.state != BOURSE_AS_CLOSED) {
            bourse_account_cmd c = {.op = BOURSE_AOP_OPERATOR, .flag = 1};
            memcpy(c.user, a.user, sizeof c.user);
            send(run, ctx, &c);
            srv_log("[accounts] operators: %s is an operator", a.user);
        }
        p += n;
    }
    srv_acct_hashes_load(s, e);
}
