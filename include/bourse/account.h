/*
 * account.h - the venue's accounts in the core: sign-up, identity checks
 * (KYC), an operator's review, suspension, closing, the operator role, and
 * funding requests, as one deterministic state machine beside the books.
 *
 * Why in the core.  Every change of an account's state must be sequenced,
 * journaled, recovered, snapshotted and replicated exactly like an order,
 * and the core engine is already the one thing that all of those carry:
 * the journal replays commands into it, snapshots save it (version 4 adds
 * the accounts), bourse_engine_hash covers it, a Raft replica applies the
 * same commands to its own copy.  A separate accounts state beside the
 * engine would have needed a second snapshot format, a second hash and a
 * hook in every one of the nine places that apply commands; here they all
 * work unchanged.  The state machine stays pure (no clock: the times it
 * keeps are the commands' ts_ns; no I/O: documents are files the shell
 * stores, of which the core keeps only sha256, type and size).  Policy
 * that needs the outside world (is the password strong, is the person 18,
 * does the document's content match its type) is checked by the shell
 * (src/accounts/accounts.h) before it sends a command; the core checks only
 * what its own consistency needs (lengths, names, states).
 *
 * Why fragments.  An account command carries text of variable length (an
 * e-mail address, an argon2id hash string of ~97 bytes, a legal name, a
 * reason), up to about 900 bytes, while every ring, the journal's record
 * (127 bytes of body) and the cluster's batches carry the fixed 104-byte
 * bourse_cmd.  Rather than a second record framing through every one of
 * them, an account command is encoded (bourse_account_encode) into a
 * message that is cut into BOURSE_CMD_ACCOUNT fragments of up to 48 bytes,
 * each an ordinary command with its own seq: flags FIRST and LAST in
 * `side`, the fragment's length in `tif`, its bytes in `part`.  The core
 * gathers the fragments and applies the message at its LAST one.  The
 * shell must send a message's fragments consecutively (the server's engine
 * thread holds them until the last has arrived and then sequences them in
 * one go); a FIRST always starts afresh, so a message cut short by a crash
 * or a refused append is simply never applied, and it was never
 * acknowledged either (acks wait for the LAST fragment's seq to be
 * durable).  The message starts with its own length, which the LAST
 * fragment must complete exactly.
 *
 * Answers.  Fragments other than the last emit nothing.  The last emits
 * the events of the core commands it runs (the USER of an approval, the
 * DEPOSIT/WITHDRAW of a funding approval with their BALANCE, the BLOCK of
 * a suspension with its CANCELED orders: delivered with that command, same
 * seq and time), then one BOURSE_EV_ACCOUNT: oid = the user name, side =
 * the op, reason = enum bourse_account_error (0 = done), qty = the
 * account's state (funding ops: the request's state), count = the funding
 * request's id, symbol and price = its asset and amount, user = the core
 * user (BOURSE_NONE before approval).
 *
 * Memory: the accounts and requests live in arrays grown with realloc when
 * an account command needs room (account commands are rare; no order ever
 * allocates for them).  Names are found by a linear scan: fine for the
 * thousands of accounts of a small venue; an index is the next step.
 */
#ifndef BOURSE_ACCOUNT_H
#define BOURSE_ACCOUNT_H

#include "bourse.h"

#ifdef __cplusplus
extern "C" {
#endif

enum bourse_account_op {
    BOURSE_AOP_SIGNUP = 1,   /* user, email, hash */
    BOURSE_AOP_KYC,          /* user, legal_name, dob, country, id_number, doc_sha256, doc_type, doc_size */
    BOURSE_AOP_APPROVE,      /* user: kyc_pending -> active, the core user is created */
    BOURSE_AOP_REJECT,       /* user, reason: kyc_pending -> kyc_rejected */
    BOURSE_AOP_SUSPEND,      /* user, reason: active -> suspended (the core's block) */
    BOURSE_AOP_RESUME,       /* user: suspended -> active (unblock) */
    BOURSE_AOP_CLOSE,        /* user, reason: any but closed -> closed (block; final) */
    BOURSE_AOP_OPERATOR,     /* user, flag = 1 grant, 0 revoke the operator role */
    BOURSE_AOP_DEPOSIT,      /* user, asset, amount, flag = 1 approve at once: a funding request */
    BOURSE_AOP_WITHDRAW,     /* user, asset, amount: a funding request */
    BOURSE_AOP_FUND_APPROVE, /* funding_id: the core's deposit/withdraw */
    BOURSE_AOP_FUND_REJECT,  /* funding_id, reason */
    BOURSE_AOP_COUNT_
};

enum bourse_account_state {
    BOURSE_AS_NONE = 0,
    BOURSE_AS_KYC_REQUIRED,
    BOURSE_AS_KYC_PENDING,
    BOURSE_AS_ACTIVE,
    BOURSE_AS_KYC_REJECTED,
    BOURSE_AS_SUSPENDED,
    BOURSE_AS_CLOSED,
    BOURSE_AS_COUNT_
};

enum bourse_funding_state { BOURSE_FS_PENDING = 1, BOURSE_FS_APPROVED, BOURSE_FS_REJECTED };

/* Why an account command was refused (BOURSE_EV_ACCOUNT's reason).  The
 * HTTP codes of docs/openapi.yaml: BAD_FIELD 400, CONFLICT and WRONG_STATE
 * 409 (CONFLICT), NOT_FOUND 404, NOT_ACTIVE 403, CAPACITY 503. */
enum bourse_account_error {
    BOURSE_AE_OK = 0,
    BOURSE_AE_BAD_FIELD,   /* a malformed message or a field out of range */
    BOURSE_AE_CONFLICT,    /* the name is taken (an account or a core user) */
    BOURSE_AE_NOT_FOUND,   /* no such account or funding request */
    BOURSE_AE_WRONG_STATE, /* not allowed in the account's (request's) state */
    BOURSE_AE_NOT_ACTIVE,  /* funding: the account is not active */
    BOURSE_AE_UNKNOWN_SYMBOL,
    BOURSE_AE_CAPACITY, /* out of memory, or the core's user table is full */
    BOURSE_AE_COUNT_
};

#define BOURSE_ACCOUNT_EMAIL_MAX 254
#define BOURSE_ACCOUNT_HASH_MAX 127
#define BOURSE_ACCOUNT_LEGAL_MAX 128
#define BOURSE_ACCOUNT_IDNUM_MAX 32
#define BOURSE_ACCOUNT_REASON_MAX 200
#define BOURSE_ACCOUNT_DOCTYPE_MAX 16
#define BOURSE_ACCOUNT_PART 48 /* bytes of message per fragment */
#define BOURSE_ACCOUNT_MSG_MAX 1024
#define BOURSE_ACCOUNT_FRAGMENTS ((BOURSE_ACCOUNT_MSG_MAX + BOURSE_ACCOUNT_PART - 1) / BOURSE_ACCOUNT_PART)
#define BOURSE_ACCOUNT_FIRST 1 /* fragment flags, in cmd.side */
#define BOURSE_ACCOUNT_LAST 2

/* One account command; strings are NUL-terminated, unused ones empty. */
typedef struct bourse_account_cmd {
    uint8_t op;   /* enum bourse_account_op */
    uint8_t flag; /* OPERATOR: grant; DEPOSIT: approve at once */
    char user[BOURSE_NAME_LEN + 1];
    char email[BOURSE_ACCOUNT_EMAIL_MAX + 1];
    char hash[BOURSE_ACCOUNT_HASH_MAX + 1]; /* crypto_pwhash_str(): never the password */
    char legal_name[BOURSE_ACCOUNT_LEGAL_MAX + 1];
    char dob[11];    /* YYYY-MM-DD */
    char country[3]; /* ISO 3166 alpha-2 */
    char id_number[BOURSE_ACCOUNT_IDNUM_MAX + 1];
    char doc_sha256[65];                           /* lower-case hex */
    char doc_type[BOURSE_ACCOUNT_DOCTYPE_MAX + 1]; /* "png", "jpeg", "pdf" */
    uint32_t doc_size;
    char reason[BOURSE_ACCOUNT_REASON_MAX + 1];
    char asset[BOURSE_SYMBOL_LEN + 1]; /* "CASH" or a symbol */
    int64_t amount;                    /* 1/10,000 units (cash) or shares */
    uint64_t funding_id;
} bourse_account_cmd;

/* An account as the state holds it. */
typedef struct bourse_account {
    char user[BOURSE_NAME_LEN + 1];
    char email[BOURSE_ACCOUNT_EMAIL_MAX + 1];
    char hash[BOURSE_ACCOUNT_HASH_MAX + 1];
    char legal_name[BOURSE_ACCOUNT_LEGAL_MAX + 1];
    char dob[11];
    char country[3];
    char id_number[BOURSE_ACCOUNT_IDNUM_MAX + 1];
    char doc_sha256[65];
    char doc_type[BOURSE_ACCOUNT_DOCTYPE_MAX + 1];
    uint32_t doc_size;
    char reason[BOURSE_ACCOUNT_REASON_MAX + 1]; /* of the last rejection, suspension or closing */
    uint8_t state;                              /* enum bourse_account_state */
    uint8_t operator_role;
    int64_t created_ns, submitted_ns, changed_ns;
} bourse_account;

typedef struct bourse_funding {
    uint64_t id; /* 1, 2, ... in request order */
    char user[BOURSE_NAME_LEN + 1];
    uint8_t kind;  /* BOURSE_AOP_DEPOSIT or BOURSE_AOP_WITHDRAW */
    uint8_t state; /* enum bourse_funding_state */
    char asset[BOURSE_SYMBOL_LEN + 1];
    int64_t amount;
    char reason[BOURSE_ACCOUNT_REASON_MAX + 1];
    int64_t requested_ns, decided_ns;
} bourse_funding;

/*
 * Encode c into fragments (out[BOURSE_ACCOUNT_FRAGMENTS]): their count, or
 * 0 when a field is too long or the op unknown.  Each is a complete
 * BOURSE_CMD_ACCOUNT command to apply (or journal) in order.
 */
size_t bourse_account_encode(const bourse_account_cmd *c, bourse_cmd *out);

/* The number of accounts / funding requests, and the i-th (0-based, in
 * creation order): 0, or -1 when i is out of range. */
uint32_t bourse_account_count(const bourse_engine *e);
int bourse_account_at(const bourse_engine *e, uint32_t i, bourse_account *out);
/* The account named `name`: its index, or -1. */
int bourse_account_find(const bourse_engine *e, const char *name, size_t len);
uint32_t bourse_funding_count(const bourse_engine *e);
int bourse_funding_at(const bourse_engine *e, uint32_t i, bourse_funding *out);

/* Names: "kyc_required" ..., "signup" ..., "pending" ..., "CONFLICT" ... */
const char *bourse_account_state_name(int state);
const char *bourse_account_op_name(int op);
const char *bourse_funding_state_name(int state);
const char *bourse_account_error_name(int err);

#ifdef __cplusplus
}
#endif
#endif
