/*
 * test_acct_index.c - the server's copy of the accounts (accounts_srv.c)
 * found by name through its hash index: with many accounts every one is
 * found with its own hash and state, a name never made is not, a second
 * note of a name changes its entry rather than adding one, and names
 * that differ in one letter or share a prefix stay apart.  The index is
 * made again several times on the way (128 slots, doubled at half full),
 * so entries must survive the rehashing.
 */
#include "check.h"
#include "server/server.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { N = 20000 };

static srv s; /* only acct_mu and the account fields are used */

static void note(const char *user, int state, const char *hash)
{
    bourse_account a;
    memset(&a, 0, sizeof a);
    snprintf(a.user, sizeof a.user, "%.16s", user);
    snprintf(a.hash, sizeof a.hash, "%s", hash);
    a.state = (uint8_t)state;
    srv_acct_note(&s, &a);
}

static void many_accounts_found(void)
{
    char u[32], h[64], got[BOURSE_ACCOUNT_HASH_MAX + 1];
    for (int i = 0; i < N; i++) {
        snprintf(u, sizeof u, "u%d", i);
        snprintf(h, sizeof h, "hash-of-%d", i);
        note(u, i % 5, h);
    }
    CHECK_EQ(s.nacct_hashes, N);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        srv_acct_status st;
        snprintf(u, sizeof u, "u%d", i);
        snprintf(h, sizeof h, "hash-of-%d", i);
        if (!srv_acct_status_get(&s, u, &st) || st.state != i % 5 || st.version != 1)
            bad++;
        if (!srv_acct_hash_get(&s, u, got, sizeof got) || strcmp(got, h) != 0)
            bad++;
    }
    CHECK_EQ(bad, 0);
    srv_acct_status st;
    CHECK(!srv_acct_status_get(&s, "u20000", &st));
    CHECK(!srv_acct_status_get(&s, "u", &st));
    CHECK(!srv_acct_status_get(&s, "", &st));
    CHECK(!srv_acct_hash_get(&s, "u-1", got, sizeof got));
}

static void second_note_updates(void)
{
    uint32_t n = s.nacct_hashes;
    note("u123", 4, "new-hash");
    srv_acct_hash_put(&s, "u124", "put-hash");
    CHECK_EQ(s.nacct_hashes, n);
    srv_acct_status st;
    char got[BOURSE_ACCOUNT_HASH_MAX + 1];
    CHECK(srv_acct_status_get(&s, "u123", &st));
    CHECK_EQ(st.state, 4);
    CHECK_EQ(st.version, 2);
    CHECK(srv_acct_hash_get(&s, "u123", got, sizeof got) && strcmp(got, "new-hash") == 0);
    CHECK(srv_acct_hash_get(&s, "u124", got, sizeof got) && strcmp(got, "put-hash") == 0);
    CHECK(srv_acct_hash_get(&s, "u125", got, sizeof got) && strcmp(got, "hash-of-125") == 0);
    /* a put of a new name makes its entry (a sign-up applied) */
    srv_acct_hash_put(&s, "newcomer", "h");
    CHECK_EQ(s.nacct_hashes, n + 1);
    CHECK(srv_acct_hash_get(&s, "newcomer", got, sizeof got) && strcmp(got, "h") == 0);
}

int main(void)
{
    pthread_mutex_init(&s.acct_mu, NULL);
    RUN(many_accounts_found);
    RUN(second_note_updates);
    free(s.acct_hashes);
    free(s.acct_index);
    return CHECK_DONE();
}
