/*
 * account.c - the accounts' state machine (bourse/account.h: why it is in
 * the core, why commands come in fragments).
 *
 *   kyc_required --kyc--> kyc_pending --approve--> active <--resume-- suspended
 *        ^                     |                     |  --suspend-->
 *        +----kyc---- kyc_rejected <--reject---------+
 *   close: from any state but closed, for good (the core user, if any, is
 *   blocked: its open orders canceled, new ones refused).
 *
 * The message (after the fragments are gathered) is
 *
 *     len:u16  op:u8  flag:u8  11 x (n:u8 bytes[n])  doc_size:u32
 *     amount:i64  funding_id:u64                         (little-endian)
 *
 * with the strings in the order of bourse_account_cmd (user, email, hash,
 * legal_name, dob, country, id_number, doc_sha256, doc_type, reason,
 * asset).  Every op carries every field (unused ones empty): one format,
 * one decoder, a few wasted bytes on a rare command.
 *
 * Memory: see account.h; a failed realloc answers CAPACITY and changes
 * nothing.
 */
#include "bourse/account.h"
#include "internal.h"

#include <stdlib.h>

struct bourse__accounts {
    bourse_account *a;
    uint32_t n, cap;
    bourse_funding *f;
    uint32_t nf, capf;
    /* the message being gathered from its fragments */
    uint8_t msg[BOURSE_ACCOUNT_MSG_MAX];
    uint32_t len;
    uint8_t gathering; /* a FIRST was seen and its message is not done */
};

/* ---- names ---- */

static const char *const state_names[BOURSE_AS_COUNT_] = {
    "none", "kyc_required", "kyc_pending", "active", "kyc_rejected", "suspended", "closed"};
static const char *const op_names[BOURSE_AOP_COUNT_] = {
    "",      "signup",   "kyc",     "approve",  "reject",       "suspend",    "resume",
    "close", "operator", "deposit", "withdraw", "fund_approve", "fund_reject"};
static const char *const fs_names[] = {"", "pending", "approved", "rejected"};
static const char *const err_names[BOURSE_AE_COUNT_] = {
    "OK", "BAD_FIELD", "CONFLICT", "NOT_FOUND", "WRONG_STATE", "NOT_ACTIVE", "UNKNOWN_SYMBOL", "CAPACITY"};

const char *bourse_account_state_name(int s)
{
    return s >= 0 && s < BOURSE_AS_COUNT_ ? state_names[s] : "?";
}
const char *bourse_account_op_name(int op)
{
    return op > 0 && op < BOURSE_AOP_COUNT_ ? op_names[op] : "?";
}
const char *bourse_funding_state_name(int s)
{
    return s > 0 && s <= BOURSE_FS_REJECTED ? fs_names[s] : "?";
}
const char *bourse_account_error_name(int err)
{
    return err >= 0 && err < BOURSE_AE_COUNT_ ? err_names[err] : "?";
}

/* ---- the message ---- */

typedef struct field {
    size_t off, size; /* in bourse_account_cmd: a char[size] */
} field;
#define F(m)                                                                                                 \
    {                                                                                                        \
        offsetof(bourse_account_cmd, m), sizeof((bourse_account_cmd *)0)->m                                  \
    }
static const field fields[] = {F(user),      F(email),      F(hash),     F(legal_name), F(dob),  F(country),
                               F(id_number), F(doc_sha256), F(doc_type), F(reason),     F(asset)};
#define NFIELDS (sizeof fields / sizeof *fields)

static uint8_t *put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

size_t bourse_account_encode(const bourse_account_cmd *c, bourse_cmd *out)
{
    uint8_t m[BOURSE_ACCOUNT_MSG_MAX], *p = m + 2;
    if (c->op < 1 || c->op >= BOURSE_AOP_COUNT_)
        return 0;
    *p++ = c->op;
    *p++ = c->flag;
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *s = (const char *)c + fields[i].off;
        size_t n = strnlen(s, fields[i].size);
        if (n == fields[i].size)
            return 0; /* not terminated: too long */
        *p++ = (uint8_t)n;
        memcpy(p, s, n);
        p += n;
    }
    p = put_le(p, c->doc_size, 4);
    p = put_le(p, (uint64_t)c->amount, 8);
    p = put_le(p, c->funding_id, 8);
    size_t len = (size_t)(p - m), k = 0;
    put_le(m, len, 2);
    for (size_t off = 0; off < len; off += BOURSE_ACCOUNT_PART, k++) {
        size_t n = len - off < BOURSE_ACCOUNT_PART ? len - off : BOURSE_ACCOUNT_PART;
        out[k] = (bourse_cmd){
            .type = BOURSE_CMD_ACCOUNT, .tif = (uint8_t)n, .user = BOURSE_NONE, .symbol = BOURSE_NONE};
        out[k].side =
            (uint8_t)((off == 0 ? BOURSE_ACCOUNT_FIRST : 0) | (off + n == len ? BOURSE_ACCOUNT_LAST : 0));
        memcpy(out[k].part, m + off, n);
    }
    return k;
}

/* 0, or -1 for a malformed message. */
static int decode(const uint8_t *m, size_t len, bourse_account_cmd *c)
{
    memset(c, 0, sizeof *c);
    if (len < 4 || get_le(m, 2) != len)
        return -1;
    const uint8_t *p = m + 2, *end = m + len;
    c->op = *p++;
    c->flag = *p++;
    for (size_t i = 0; i < NFIELDS; i++) {
        if (p >= end || *p >= fields[i].size || (size_t)(end - p - 1) < *p)
            return -1;
        size_t n = *p++;
        char *s = (char *)c + fields[i].off;
        memcpy(s, p, n);
        for (size_t k = 0; k < n; k++)
            if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
                return -1; /* no NUL, newline or other control character in the state */
        p += n;
    }
    if (end - p != 20)
        return -1;
    c->doc_size = (uint32_t)get_le(p, 4);
    c->amount = (int64_t)get_le(p + 4, 8);
    c->funding_id = get_le(p + 12, 8);
    return c->op >= 1 && c->op < BOURSE_AOP_COUNT_ ? 0 : -1;
}

/* ---- state ---- */

static int user_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > BOURSE_NAME_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-'))
            return 0;
    }
    return 1;
}

static int find(const struct bourse__accounts *x, const char *name, size_t len)
{
    if (!x)
        return -1;
    for (uint32_t i = 0; i < x->n; i++)
        if (strlen(x->a[i].user) == len && memcmp(x->a[i].user, name, len) == 0)
            return (int)i;
    return -1;
}

static int grow(void **p, uint32_t *cap, size_t size, uint32_t n)
{
    if (n < *cap)
        return 0;
    uint32_t c = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, (size_t)c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

typedef struct answer {
    int err, state;
    uint64_t fid;
    uint32_t asset;
    int64_t amount;
} answer;

static void emit_answer(bourse_engine *e, const bourse_account_cmd *m, const answer *a)
{
    bourse_event ev = {.type = BOURSE_EV_ACCOUNT, .reason = (uint8_t)a->err, .side = m->op};
    memcpy(ev.oid.s, m->user, strnlen(m->user, BOURSE_NAME_LEN));
    ev.user = bourse_user_find(e, m->user, strlen(m->user));
    ev.qty = a->state;
    ev.count = (int64_t)a->fid;
    ev.symbol = a->asset ? a->asset : BOURSE_NONE;
    ev.price = a->amount;
    emit(e, &ev);
}

/* Run a core command inside the account command: its events go where the
 * account command's go, with it as their command (same seq and time). */
static void core(bourse_engine *e, int type, const char *user, uint32_t symbol, int64_t qty)
{
    const bourse_cmd *outer = e->cmd;
    bourse_cmd c = {
        .type = (uint8_t)type, .symbol = symbol, .qty = qty, .seq = outer->seq, .ts_ns = outer->ts_ns};
    memcpy(c.user_name.s, user, strnlen(user, BOURSE_NAME_LEN));
    c.user = bourse_user_find(e, user, strlen(user));
    uint64_t counted = e->commands;
    bourse_engine_apply(e, &c, e->emit_fn, e->emit_ctx);
    e->commands = counted; /* one journaled command, one count */
    e->cmd = outer;
}

/* The core's answer to `core` just run: the reason of its ERROR, 0. */
typedef struct probe {
    bourse_event_fn fn;
    void *ctx;
    int reason;
} probe;

static void probe_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    probe *p = ctx;
    if (ev->type == BOURSE_EV_ERROR && !p->reason)
        p->reason = ev->reason ? ev->reason : -1;
    p->fn(p->ctx, cmd, ev);
}

static int core_checked(bourse_engine *e, int type, const char *user, uint32_t symbol, int64_t qty)
{
    probe p = {.fn = e->emit_fn, .ctx = e->emit_ctx};
    bourse_event_fn fn = e->emit_fn;
    void *ctx = e->emit_ctx;
    e->emit_fn = probe_event, e->emit_ctx = &p;
    core(e, type, user, symbol, qty);
    e->emit_fn = fn, e->emit_ctx = ctx;
    return p.reason;
}

static void set_text(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

static int fund_decide(bourse_engine *e, bourse_funding *f, int approve, const char *reason, answer *a)
{
    a->fid = f->id;
    a->amount = f->amount;
    int asset = strcmp(f->asset, "CASH") == 0 ? (int)BOURSE_CASH
                                              : (int)bourse_symbol_find(e, f->asset, strlen(f->asset));
    a->asset = (uint32_t)asset;
    if (f->state != BOURSE_FS_PENDING)
        return a->state = f->state, BOURSE_AE_WRONG_STATE;
    if (approve) {
        int r = core_checked(e, f->kind == BOURSE_AOP_DEPOSIT ? BOURSE_CMD_DEPOSIT : BOURSE_CMD_WITHDRAW,
                             f->user, (uint32_t)asset, f->amount);
        if (r) { /* the core said no (INSUFFICIENT_CASH, ...): the request is rejected with its reason */
            f->state = BOURSE_FS_REJECTED;
            set_text(f->reason, sizeof f->reason, r > 0 ? bourse_reason_name(r) : "REFUSED");
        } else
            f->state = BOURSE_FS_APPROVED;
    } else {
        f->state = BOURSE_FS_REJECTED;
        set_text(f->reason, sizeof f->reason, reason);
    }
    f->decided_ns = e->cmd->ts_ns;
    a->state = f->state;
    return BOURSE_AE_OK;
}

static int fund_request(bourse_engine *e, const bourse_account_cmd *m, bourse_account *acc, answer *a)
{
    struct bourse__accounts *x = e->acct;
    if (acc->state != BOURSE_AS_ACTIVE)
        return a->state = acc->state, BOURSE_AE_NOT_ACTIVE;
    uint32_t asset = BOURSE_CASH;
    int64_t max = BOURSE_CASH_MAX;
    if (strcmp(m->asset, "CASH") != 0) {
        asset = bourse_symbol_find(e, m->asset, strlen(m->asset));
        if (asset == BOURSE_NONE)
            return BOURSE_AE_UNKNOWN_SYMBOL;
        max = BOURSE_TOTAL_MAX;
    }
    if (m->amount <= 0 || m->amount > max)
        return BOURSE_AE_BAD_FIELD;
    if (grow((void **)&x->f, &x->capf, sizeof *x->f, x->nf))
        return BOURSE_AE_CAPACITY;
    bourse_funding *f = &x->f[x->nf];
    *f = (bourse_funding){.id = x->nf + 1u,
                          .kind = m->op,
                          .state = BOURSE_FS_PENDING,
                          .amount = m->amount,
                          .requested_ns = e->cmd->ts_ns};
    set_text(f->user, sizeof f->user, acc->user);
    set_text(f->asset, sizeof f->asset, m->asset);
    x->nf++;
    a->fid = f->id, a->asset = asset, a->amount = f->amount, a->state = BOURSE_FS_PENDING;
    if (m->op == BOURSE_AOP_DEPOSIT && m->flag)
        fund_decide(e, f, 1, "", a);
    return BOURSE_AE_OK;
}

static int signup(bourse_engine *e, const bourse_account_cmd *m, answer *a)
{
    struct bourse__accounts *x = e->acct;
    if (!user_name_ok(m->user) || !m->email[0] || !m->hash[0])
        return BOURSE_AE_BAD_FIELD;
    if (find(x, m->user, strlen(m->user)) >= 0 ||
        bourse_user_find(e, m->user, strlen(m->user)) != BOURSE_NONE)
        return BOURSE_AE_CONFLICT;
    if (grow((void **)&x->a, &x->cap, sizeof *x->a, x->n))
        return BOURSE_AE_CAPACITY;
    bourse_account *acc = &x->a[x->n++];
    memset(acc, 0, sizeof *acc);
    set_text(acc->user, sizeof acc->user, m->user);
    set_text(acc->email, sizeof acc->email, m->email);
    set_text(acc->hash, sizeof acc->hash, m->hash);
    acc->state = BOURSE_AS_KYC_REQUIRED;
    acc->created_ns = acc->changed_ns = e->cmd->ts_ns;
    a->state = acc->state;
    return BOURSE_AE_OK;
}

static int kyc(bourse_engine *e, const bourse_account_cmd *m, bourse_account *acc)
{
    if (acc->state != BOURSE_AS_KYC_REQUIRED && acc->state != BOURSE_AS_KYC_REJECTED)
        return BOURSE_AE_WRONG_STATE;
    if (!m->legal_name[0] || strlen(m->dob) != 10 || strlen(m->country) != 2 || !m->id_number[0] ||
        strlen(m->doc_sha256) != 64 || !m->doc_type[0] || !m->doc_size)
        return BOURSE_AE_BAD_FIELD;
    set_text(acc->legal_name, sizeof acc->legal_name, m->legal_name);
    set_text(acc->dob, sizeof acc->dob, m->dob);
    set_text(acc->country, sizeof acc->country, m->country);
    set_text(acc->id_number, sizeof acc->id_number, m->id_number);
    set_text(acc->doc_sha256, sizeof acc->doc_sha256, m->doc_sha256);
    set_text(acc->doc_type, sizeof acc->doc_type, m->doc_type);
    acc->doc_size = m->doc_size;
    acc->reason[0] = 0;
    acc->state = BOURSE_AS_KYC_PENDING;
    acc->submitted_ns = e->cmd->ts_ns;
    return BOURSE_AE_OK;
}

/* The account ops on an existing account `acc`. */
static int account_op(bourse_engine *e, const bourse_account_cmd *m, bourse_account *acc, answer *a)
{
    int to = -1, err = BOURSE_AE_OK;
    switch (m->op) {
    case BOURSE_AOP_KYC: err = kyc(e, m, acc); break;
    case BOURSE_AOP_APPROVE:
        if (acc->state != BOURSE_AS_KYC_PENDING)
            return BOURSE_AE_WRONG_STATE;
        /* A core user of this name made meanwhile the old way (`user NAME`)
         * is taken over: the account's owner passed KYC for the name. */
        if (bourse_user_find(e, acc->user, strlen(acc->user)) == BOURSE_NONE &&
            core_checked(e, BOURSE_CMD_USER, acc->user, BOURSE_NONE, 0))
            return BOURSE_AE_CAPACITY;
        to = BOURSE_AS_ACTIVE;
        break;
    case BOURSE_AOP_REJECT:
        if (acc->state != BOURSE_AS_KYC_PENDING)
            return BOURSE_AE_WRONG_STATE;
        to = BOURSE_AS_KYC_REJECTED;
        break;
    case BOURSE_AOP_SUSPEND:
        if (acc->state != BOURSE_AS_ACTIVE)
            return BOURSE_AE_WRONG_STATE;
        core(e, BOURSE_CMD_BLOCK, acc->user, BOURSE_NONE, 0);
        to = BOURSE_AS_SUSPENDED;
        break;
    case BOURSE_AOP_RESUME:
        if (acc->state != BOURSE_AS_SUSPENDED)
            return BOURSE_AE_WRONG_STATE;
        core(e, BOURSE_CMD_UNBLOCK, acc->user, BOURSE_NONE, 0);
        to = BOURSE_AS_ACTIVE;
        break;
    case BOURSE_AOP_CLOSE:
        if (acc->state == BOURSE_AS_CLOSED)
            return BOURSE_AE_WRONG_STATE;
        if (acc->state == BOURSE_AS_ACTIVE)
            core(e, BOURSE_CMD_BLOCK, acc->user, BOURSE_NONE, 0);
        to = BOURSE_AS_CLOSED;
        break;
    case BOURSE_AOP_OPERATOR:
        if (acc->state == BOURSE_AS_CLOSED)
            return BOURSE_AE_WRONG_STATE;
        acc->operator_role = m->flag ? 1 : 0;
        break;
    case BOURSE_AOP_DEPOSIT:
    case BOURSE_AOP_WITHDRAW: return fund_request(e, m, acc, a);
    default: return BOURSE_AE_BAD_FIELD;
    }
    if (err)
        return err;
    if (to >= 0) {
        acc->state = (uint8_t)to;
        if (m->op == BOURSE_AOP_REJECT || m->op == BOURSE_AOP_SUSPEND || m->op == BOURSE_AOP_CLOSE)
            set_text(acc->reason, sizeof acc->reason, m->reason);
        else
            acc->reason[0] = 0;
    }
    acc->changed_ns = e->cmd->ts_ns;
    a->state = acc->state;
    return BOURSE_AE_OK;
}

static void run_message(bourse_engine *e, const uint8_t *msg, size_t len)
{
    struct bourse__accounts *x = e->acct;
    bourse_account_cmd m;
    answer a = {0};
    if (decode(msg, len, &m) != 0) {
        a.err = BOURSE_AE_BAD_FIELD;
        m.op = 0;
    } else if (m.op == BOURSE_AOP_SIGNUP) {
        a.err = signup(e, &m, &a);
    } else if (m.op == BOURSE_AOP_FUND_APPROVE || m.op == BOURSE_AOP_FUND_REJECT) {
        a.fid = m.funding_id;
        if (m.funding_id < 1 || m.funding_id > x->nf)
            a.err = BOURSE_AE_NOT_FOUND;
        else {
            bourse_funding *f = &x->f[m.funding_id - 1];
            set_text(m.user, sizeof m.user, f->user);
            a.err = fund_decide(e, f, m.op == BOURSE_AOP_FUND_APPROVE, m.reason, &a);
        }
    } else {
        int i = find(x, m.user, strlen(m.user));
        if (i < 0)
            a.err = BOURSE_AE_NOT_FOUND;
        else {
            a.state = x->a[i].state;
            a.err = account_op(e, &m, &x->a[i], &a);
        }
    }
    emit_answer(e, &m, &a);
}

void bourse__account_apply(bourse_engine *e, const bourse_cmd *c)
{
    if (!e->acct && !(e->acct = calloc(1, sizeof *e->acct))) {
        bourse_account_cmd none = {0};
        if (c->side & BOURSE_ACCOUNT_LAST)
            emit_answer(e, &none, &(answer){.err = BOURSE_AE_CAPACITY});
        return;
    }
    struct bourse__accounts *x = e->acct;
    if (c->side & BOURSE_ACCOUNT_FIRST)
        x->len = 0, x->gathering = 1;
    if (!x->gathering)
        return; /* the rest of a message whose start was lost: never applied */
    if (c->tif > BOURSE_ACCOUNT_PART || x->len + c->tif > BOURSE_ACCOUNT_MSG_MAX) {
        x->gathering = 0;
        return;
    }
    memcpy(x->msg + x->len, c->part, c->tif);
    x->len += c->tif;
    if (c->side & BOURSE_ACCOUNT_LAST) {
        x->gathering = 0;
        run_message(e, x->msg, x->len);
        x->len = 0;
    }
}

void bourse__accounts_free(bourse_engine *e)
{
    if (e->acct) {
        free(e->acct->a);
        free(e->acct->f);
        free(e->acct);
        e->acct = NULL;
    }
}

/* ---- reading ---- */

uint32_t bourse_account_count(const bourse_engine *e)
{
    return e->acct ? e->acct->n : 0;
}

int bourse_account_at(const bourse_engine *e, uint32_t i, bourse_account *out)
{
    if (i >= bourse_account_count(e))
        return -1;
    *out = e->acct->a[i];
    return 0;
}

int bourse_account_find(const bourse_engine *e, const char *name, size_t len)
{
    return find(e->acct, name, len);
}

uint32_t bourse_funding_count(const bourse_engine *e)
{
    return e->acct ? e->acct->nf : 0;
}

int bourse_funding_at(const bourse_engine *e, uint32_t i, bourse_funding *out)
{
    if (i >= bourse_funding_count(e))
        return -1;
    *out = e->acct->f[i];
    return 0;
}

/* ---- snapshots and the hash (snapshot.c, hash.c) ---- */

/* Each record is its struct's fields, strings as fixed NUL-padded arrays,
 * integers little-endian: no struct padding or byte order reaches a file. */
typedef struct acc_io {
    bourse_write_fn wfn;
    bourse_read_fn rfn;
    void *ctx;
    int err;
} acc_io;

static void io_bytes(acc_io *io, void *p, size_t n)
{
    if (io->err)
        return;
    io->err = io->wfn ? io->wfn(io->ctx, p, n) : io->rfn(io->ctx, p, n);
}

static void io_str(acc_io *io, char *s, size_t size)
{
    if (io->wfn) {
        char buf[256] = {0};
        size_t n = strnlen(s, size - 1);
        memcpy(buf, s, n);
        io_bytes(io, buf, size);
        return;
    }
    io_bytes(io, s, size);
    if (!io->err && s[size - 1])
        io->err = -1; /* not terminated */
}

static void io_int(acc_io *io, void *v, int n) /* n bytes: 1, 4 or 8 */
{
    uint8_t b[8];
    uint64_t x = 0;
    if (io->wfn) {
        memcpy(&x, v, (size_t)n); /* little-endian host (the snapshot's other integers assume it too) */
        put_le(b, x, n);
        io_bytes(io, b, (size_t)n);
        return;
    }
    io_bytes(io, b, (size_t)n);
    x = get_le(b, n);
    memcpy(v, &x, (size_t)n);
}

#define IO_S(io, r, m) io_str(io, (r)->m, sizeof(r)->m)
static void io_account(acc_io *io, bourse_account *r)
{
    IO_S(io, r, user), IO_S(io, r, email), IO_S(io, r, hash), IO_S(io, r, legal_name), IO_S(io, r, dob);
    IO_S(io, r, country), IO_S(io, r, id_number), IO_S(io, r, doc_sha256), IO_S(io, r, doc_type);
    IO_S(io, r, reason);
    io_int(io, &r->doc_size, 4), io_int(io, &r->state, 1), io_int(io, &r->operator_role, 1);
    io_int(io, &r->created_ns, 8), io_int(io, &r->submitted_ns, 8), io_int(io, &r->changed_ns, 8);
}

static void io_funding(acc_io *io, bourse_funding *r)
{
    io_int(io, &r->id, 8), IO_S(io, r, user), io_int(io, &r->kind, 1), io_int(io, &r->state, 1);
    IO_S(io, r, asset), io_int(io, &r->amount, 8), IO_S(io, r, reason);
    io_int(io, &r->requested_ns, 8), io_int(io, &r->decided_ns, 8);
}

static void io_all(acc_io *io, struct bourse__accounts *x)
{
    io_int(io, &x->n, 4), io_int(io, &x->nf, 4), io_int(io, &x->len, 4), io_int(io, &x->gathering, 1);
    if (io->rfn && !io->err) { /* make room for what is to be read */
        if (x->len > BOURSE_ACCOUNT_MSG_MAX || x->gathering > 1 || x->n > (1u << 24) || x->nf > (1u << 28)) {
            io->err = -1;
            return;
        }
        x->a = calloc(x->n ? x->n : 1, sizeof *x->a);
        x->f = calloc(x->nf ? x->nf : 1, sizeof *x->f);
        if (!x->a || !x->f) {
            io->err = -1;
            return;
        }
        x->cap = x->n ? x->n : 1, x->capf = x->nf ? x->nf : 1;
    }
    io_bytes(io, x->msg, x->len);
    for (uint32_t i = 0; i < x->n && !io->err; i++)
        io_account(io, &x->a[i]);
    for (uint32_t i = 0; i < x->nf && !io->err; i++)
        io_funding(io, &x->f[i]);
}

int bourse__accounts_save(const bourse_engine *e, bourse_write_fn fn, void *ctx)
{
    acc_io io = {.wfn = fn, .ctx = ctx};
    struct bourse__accounts none = {0};
    io_all(&io, e->acct ? e->acct : &none);
    return io.err;
}

int bourse__accounts_load(bourse_engine *e, bourse_read_fn fn, void *ctx)
{
    acc_io io = {.rfn = fn, .ctx = ctx};
    if (!(e->acct = calloc(1, sizeof *e->acct)))
        return -1;
    io_all(&io, e->acct);
    struct bourse__accounts *x = e->acct;
    for (uint32_t i = 0; !io.err && i < x->n; i++)
        if (x->a[i].state < 1 || x->a[i].state >= BOURSE_AS_COUNT_ || !user_name_ok(x->a[i].user))
            io.err = -1;
    for (uint32_t i = 0; !io.err && i < x->nf; i++)
        if (x->f[i].id != i + 1u || x->f[i].state < 1 || x->f[i].state > BOURSE_FS_REJECTED)
            io.err = -1;
    return io.err ? -1 : 0;
}

/* FNV-1a of the saved form: equal account states, equal digests. */
static int digest_write(void *ctx, const void *buf, size_t len)
{
    uint64_t *h = ctx;
    for (size_t i = 0; i < len; i++)
        *h = (*h ^ ((const uint8_t *)buf)[i]) * 0x100000001b3ULL;
    return 0;
}

uint64_t bourse__accounts_digest(const bourse_engine *e)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    bourse__accounts_save(e, digest_write, &h);
    return h;
}
