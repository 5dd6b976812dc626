/*
 * test_wallet.c - cash and share accounts, holds, refunds, settlement and
 * the asset bound (src/core/wallet.c), checked through `balance` and the
 * internal accounts.
 */
#include "check.h"
#include "core/internal.h"
#include "invariants.h"
#include "lines.h"

static bourse_engine *two_traders(void)
{
    static const char *const setup[] = {
        "symbol ACME", "user alice", "user bob", "deposit alice CASH 1000", "deposit bob ACME 100", NULL};
    bourse_engine *e = bourse_engine_new(NULL);
    apply_ok(e, setup);
    return e;
}

static const account *acct(const bourse_engine *e, const char *name)
{
    return &e->users[bourse_user_find(e, name, strlen(name))];
}

static void test_holds_and_release(void)
{
    bourse_engine *e = two_traders();
    CHECK_LINE(e, "buy alice b1 ACME 10 5.5", "ACCEPTED alice b1\n");
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 945 55\n");
    CHECK_EQ(acct(e, "alice")->cash_held, 550000);
    CHECK_LINE(e, "sell bob s1 ACME 30 7", "ACCEPTED bob s1\n");
    CHECK_LINE(e, "balance bob", "BALANCE bob ACME 70 30\n");
    /* Held money and shares cannot be withdrawn or used twice. */
    CHECK_LINE(e, "withdraw alice CASH 945.0001", "ERROR INSUFFICIENT_CASH\n");
    CHECK_LINE(e, "withdraw bob ACME 71", "ERROR INSUFFICIENT_SHARES\n");
    CHECK_LINE(e, "buy alice b2 ACME 1 945.0001", "REJECTED alice b2 INSUFFICIENT_CASH\n");
    CHECK_LINE(e, "sell bob s2 ACME 71 7", "REJECTED bob s2 INSUFFICIENT_SHARES\n");
    /* Cancels give back exactly what the canceled quantity held. */
    CHECK_LINE(e, "cancel bob s1", "CANCELED bob s1 30 USER\n");
    CHECK_LINE(e, "balance bob", "BALANCE bob ACME 100 0\n");
    CHECK_LINE(e, "buy alice b2 ACME 1 945", "ACCEPTED alice b2\n"); /* exactly all of it */
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 0 1000\n");
    CHECK_LINE(e, "cancel alice b1", "CANCELED alice b1 10 USER\n");
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 55 945\n");
    CHECK(!inv_check(e, "holds"));
    bourse_engine_free(e);
}

static void test_settlement_and_refund(void)
{
    bourse_engine *e = two_traders();
    CHECK_LINE(e, "sell bob s1 ACME 30 10.5", "ACCEPTED bob s1\n");
    CHECK_LINE(e, "sell bob s2 ACME 10 10.75", "ACCEPTED bob s2\n");
    /* 35 at limit 11 holds 385; fills 30 x 10.5 + 5 x 10.75 = 368.75; the
     * 16.25 difference comes back. */
    CHECK_LINE(e, "buy alice b1 ACME 35 11",
               "ACCEPTED alice b1\nTRADE ACME 30 10.5 alice b1 bob s1\nTRADE ACME 5 10.75 alice b1 bob s2\n");
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 631.25 0\nBALANCE alice ACME 35 0\n");
    CHECK_LINE(e, "balance bob", "BALANCE bob CASH 368.75 0\nBALANCE bob ACME 60 5\n");
    /* A partly filled resting buy holds only its rest, at its own price. */
    CHECK_LINE(e, "buy alice b2 ACME 20 10.0001", "ACCEPTED alice b2\n");
    CHECK_LINE(e, "sell bob s3 ACME 7 9 ioc", "ACCEPTED bob s3\nTRADE ACME 7 10.0001 alice b2 bob s3\n");
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 431.248 130.0013\nBALANCE alice ACME 42 0\n");
    CHECK_LINE(e, "balance bob", "BALANCE bob CASH 438.7507 0\nBALANCE bob ACME 53 5\n");
    CHECK_LINE(e, "cancel alice b2", "CANCELED alice b2 13 USER\n");
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 561.2493 0\nBALANCE alice ACME 42 0\n");
    /* Nothing was created or lost: 1000 cash, 100 shares in all. */
    CHECK_EQ(e->cash_total, 1000 * BOURSE_SCALE);
    CHECK_EQ(e->symbols[0].total, 100);
    CHECK_EQ(acct(e, "alice")->traded + acct(e, "bob")->traded, 2 * 42);
    CHECK(!inv_check(e, "bourse__settle"));
    bourse_engine_free(e);
}

/* A replace swaps the old hold for the new one, or changes nothing. */
static void test_replace_holds(void)
{
    bourse_engine *e = two_traders();
    CHECK_LINE(e, "buy alice b1 ACME 100 5", "ACCEPTED alice b1\n");
    CHECK_LINE(e, "replace alice b1 b2 200 5.0001", "REJECTED alice b2 INSUFFICIENT_CASH\n");
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 500 500\n");
    CHECK_LINE(e, "replace alice b1 b2 200 5", "REPLACED alice b1 b2\n"); /* old hold counts */
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 0 1000\n");
    CHECK_LINE(e, "replace alice b2 b3 10 1", "REPLACED alice b2 b3\n");
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 990 10\n");
    CHECK_LINE(e, "sell bob s1 ACME 60 9", "ACCEPTED bob s1\n");
    CHECK_LINE(e, "replace bob s1 s2 101 9", "REJECTED bob s2 INSUFFICIENT_SHARES\n");
    CHECK_LINE(e, "replace bob s1 s2 100 9", "REPLACED bob s1 s2\n");
    CHECK_LINE(e, "balance bob", "BALANCE bob ACME 0 100\n");
    CHECK_LINE(e, "replace bob s2 s3 1 9", "REPLACED bob s2 s3\n");
    CHECK_LINE(e, "balance bob", "BALANCE bob ACME 99 1\n");
    CHECK(!inv_check(e, "replace"));
    bourse_engine_free(e);
}

/* Rule 8: no asset's exchange-wide total passes 900,000,000,000,000. */
static void test_overflow_bound(void)
{
    bourse_engine *e = bourse_engine_new(NULL);
    static const char *const setup[] = {
        "symbol A", "symbol B", "user u", "user v", "deposit u CASH 899999999999999.9999", NULL};
    apply_ok(e, setup);
    CHECK_LINE(e, "deposit v CASH 0.0002", "ERROR OVERFLOW\n");
    CHECK_LINE(e, "deposit v CASH 0.0001", "OK\n");
    CHECK_EQ(e->cash_total, BOURSE_CASH_MAX);
    CHECK_LINE(e, "deposit u CASH 0.0001", "ERROR OVERFLOW\n");
    CHECK_LINE(e, "withdraw u CASH 1", "OK\n");
    CHECK_LINE(e, "deposit v CASH 1.0001", "ERROR OVERFLOW\n");
    CHECK_LINE(e, "deposit v CASH 1", "OK\n");
    CHECK_LINE(e, "deposit u A 900000000000000", "OK\n");
    CHECK_LINE(e, "deposit v A 1", "ERROR OVERFLOW\n");
    CHECK_LINE(e, "deposit v B 900000000000000", "OK\n"); /* each symbol on its own */
    CHECK_LINE(e, "balance v", "BALANCE v CASH 1.0001 0\nBALANCE v B 900000000000000 0\n");
    /* The biggest order fits: 100,000,000 shares at 1,000,000. */
    CHECK_LINE(e, "buy u big A 100000000 1000000", "ACCEPTED u big\n");
    CHECK_LINE(e, "sell v s B 100000000 1000000", "ACCEPTED v s\n");
    CHECK_LINE(e, "sell u s A 100000000 1000000 fok", "ACCEPTED u s\nCANCELED u s 100000000 FOK\n");
    CHECK_LINE(e, "sell u s2 A 100000000 1000000 ioc",
               "ACCEPTED u s2\nCANCELED u big 100000000 SELF_TRADE\nCANCELED u s2 100000000 IOC\n");
    CHECK(!inv_check(e, "overflow"));
    bourse_engine_free(e);
}

/* `balance` lists CASH first, then symbols by name bytes, whatever the order
 * the user's positions were opened in; positions never held stay silent. */
static void test_balance_order(void)
{
    bourse_engine *e = bourse_engine_new(NULL);
    static const char *const setup[] = {"symbol ZZ", "symbol A", "symbol M", "symbol A.B",
                                        "symbol 9",  "user u",   "user v",   NULL};
    apply_ok(e, setup);
    CHECK_LINE(e, "balance u", "");
    CHECK_LINE(e, "deposit u M 1", "OK\n");
    CHECK_LINE(e, "deposit u ZZ 2", "OK\n");
    CHECK_LINE(e, "deposit u A.B 3", "OK\n");
    CHECK_LINE(e, "deposit u A 4", "OK\n");
    CHECK_LINE(e, "balance u", "BALANCE u A 4 0\nBALANCE u A.B 3 0\nBALANCE u M 1 0\nBALANCE u ZZ 2 0\n");
    /* A buy opens a position that is not printed until it holds shares. */
    CHECK_LINE(e, "deposit u CASH 10", "OK\n");
    CHECK_LINE(e, "buy u b1 9 1 1", "ACCEPTED u b1\n");
    CHECK_LINE(e, "balance u",
               "BALANCE u CASH 9 1\nBALANCE u A 4 0\nBALANCE u A.B 3 0\nBALANCE u M 1 0\nBALANCE u ZZ 2 0\n");
    CHECK_EQ(e->npositions, 5);
    CHECK_LINE(e, "deposit v 9 1", "OK\n");
    CHECK_LINE(e, "sell v s1 9 1 1", "ACCEPTED v s1\nTRADE 9 1 1 u b1 v s1\n");
    CHECK_LINE(e, "balance u",
               "BALANCE u CASH 9 0\nBALANCE u 9 1 0\nBALANCE u A 4 0\nBALANCE u A.B 3 0\n"
               "BALANCE u M 1 0\nBALANCE u ZZ 2 0\n");
    /* Selling everything or withdrawing all keeps the lines: "ever held". */
    CHECK_LINE(e, "balance v", "BALANCE v CASH 1 0\nBALANCE v 9 0 0\n");
    CHECK_LINE(e, "withdraw v CASH 1", "OK\n");
    CHECK_LINE(e, "balance v", "BALANCE v CASH 0 0\nBALANCE v 9 0 0\n");
    CHECK_LINE(e, "balance w", "ERROR UNKNOWN_USER\n");
    CHECK(!inv_check(e, "balance"));
    bourse_engine_free(e);
}

/* Deposit and withdraw errors, in the order rule 8 gives. */
static void test_transfer_errors(void)
{
    bourse_engine *e = two_traders();
    CHECK_LINE(e, "deposit nobody NOPE 1", "ERROR UNKNOWN_USER\n");
    CHECK_LINE(e, "deposit alice NOPE 1", "ERROR UNKNOWN_SYMBOL\n");
    CHECK_LINE(e, "withdraw nobody CASH 1", "ERROR UNKNOWN_USER\n");
    CHECK_LINE(e, "withdraw alice NOPE 1", "ERROR UNKNOWN_SYMBOL\n");
    CHECK_LINE(e, "withdraw alice ACME 1", "ERROR INSUFFICIENT_SHARES\n"); /* no position at all */
    CHECK_EQ(e->npositions, 1);                                            /* and none was opened */
    CHECK_LINE(e, "withdraw bob CASH 0.0001", "ERROR INSUFFICIENT_CASH\n");
    CHECK_LINE(e, "withdraw alice CASH 1000", "OK\n");
    CHECK_LINE(e, "balance alice", "BALANCE alice CASH 0 0\n");
    CHECK_LINE(e, "limit nobody 5", "ERROR UNKNOWN_USER\n");
    CHECK_EQ(e->cash_total, 0);
    CHECK(!inv_check(e, "transfer"));
    bourse_engine_free(e);
}

/* Rule 4 counts traded shares plus open quantity per trading day. */
static void test_daily_limit_accounting(void)
{
    bourse_engine *e = two_traders();
    CHECK_LINE(e, "limit bob 50", "OK\n");
    CHECK_LINE(e, "sell bob s1 ACME 30 1 gtc", "ACCEPTED bob s1\n");
    CHECK_LINE(e, "sell bob s2 ACME 21 2", "REJECTED bob s2 DAILY_LIMIT\n");
    CHECK_LINE(e, "buy alice b1 ACME 10 1", "ACCEPTED alice b1\nTRADE ACME 10 1 alice b1 bob s1\n");
    CHECK_LINE(e, "sell bob s2 ACME 21 2", "REJECTED bob s2 DAILY_LIMIT\n"); /* 10 traded + 20 open */
    CHECK_LINE(e, "sell bob s2 ACME 20 2", "ACCEPTED bob s2\n");
    CHECK_LINE(e, "replace bob s2 s3 21 2", "REJECTED bob s3 DAILY_LIMIT\n");
    CHECK_LINE(e, "close", "OK\nCANCELED bob s2 20 SESSION_END\n");
    CHECK_LINE(e, "open", "OK\n");
    CHECK_EQ(bourse__day_traded(e, acct(e, "bob")), 0);
    CHECK_LINE(e, "sell bob s4 ACME 31 2", "REJECTED bob s4 DAILY_LIMIT\n"); /* gtc s1 still open */
    CHECK_LINE(e, "sell bob s4 ACME 30 2", "ACCEPTED bob s4\n");
    CHECK_LINE(e, "limit bob 0", "OK\n");
    CHECK_LINE(e, "sell bob s5 ACME 40 2", "ACCEPTED bob s5\n");
    CHECK(!inv_check(e, "limit"));
    bourse_engine_free(e);
}

static void count_balance(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    (void)cmd;
    *(int *)ctx += ev->type == BOURSE_EV_BALANCE;
}

/* bourse_engine_query: a balance answered as a question leaves the state,
 * its hash and its command count as they were (the server does not journal
 * it), and answers only read-only commands. */
static void test_query_changes_nothing(void)
{
    bourse_engine *e = two_traders();
    bourse_stats before, after;
    bourse_engine_stats(e, &before);
    uint64_t hash = bourse_engine_hash(e);
    bourse_cmd q = {.type = BOURSE_CMD_BALANCE, .user = bourse_user_find(e, "alice", 5)};
    int n = 0;
    bourse_engine_query(e, &q, count_balance, &n);
    CHECK_EQ(n, 1);
    bourse_cmd dep = {.type = BOURSE_CMD_DEPOSIT, .user = q.user, .symbol = BOURSE_CASH, .qty = 5};
    bourse_engine_query(e, &dep, count_balance, &n); /* not a question: nothing */
    bourse_engine_stats(e, &after);
    CHECK_EQ(after.commands, before.commands);
    CHECK_EQ(bourse_engine_hash(e), hash);
    CHECK_EQ(acct(e, "alice")->cash, 1000 * BOURSE_SCALE);
    bourse_engine_free(e);
}

/* Symbols 1 and 5 share a slot of the account's position cache (wallet.c):
 * each order must still hold shares of its own symbol. */
static void test_position_cache(void)
{
    static const char *const setup[] = {"symbol S0",         "symbol S1", "symbol S2", "symbol S3",
                                        "symbol S4",         "symbol S5", "user bob",  "deposit bob S1 10",
                                        "deposit bob S5 50", NULL};
    bourse_engine *e = bourse_engine_new(NULL);
    apply_ok(e, setup);
    CHECK_LINE(e, "sell bob a S1 5 1", "ACCEPTED bob a\n");
    CHECK_LINE(e, "sell bob b S5 20 1", "ACCEPTED bob b\n");
    CHECK_LINE(e, "sell bob c S1 6 1", "REJECTED bob c INSUFFICIENT_SHARES\n");
    CHECK_LINE(e, "sell bob d S5 30 1", "ACCEPTED bob d\n");
    CHECK_LINE(e, "sell bob f S3 1 1", "REJECTED bob f INSUFFICIENT_SHARES\n"); /* no S3 position */
    CHECK_LINE(e, "balance bob", "BALANCE bob S1 5 5\nBALANCE bob S5 0 50\n");
    CHECK(!inv_check(e, "position cache"));
    bourse_engine_free(e);
}

int main(void)
{
    RUN(test_position_cache);
    RUN(test_holds_and_release);
    RUN(test_settlement_and_refund);
    RUN(test_replace_holds);
    RUN(test_overflow_bound);
    RUN(test_balance_order);
    RUN(test_transfer_errors);
    RUN(test_daily_limit_accounting);
    RUN(test_query_changes_nothing);
    return CHECK_DONE();
}
