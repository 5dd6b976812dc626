/*
 * test_dropcopy.c - the [fix] dropcopy setting (src/server/dropcopy.c):
 * the first version's form (names covering everyone), entries with the
 * users each covers, '*', every refusal, and the coverage table the engine
 * thread fills by user id from an engine's names.
 */
#include "check.h"
#include "server/dropcopy.h"

#include <string.h>

static void old_form_covers_everyone(void)
{
    dropcopy d;
    char err[160];
    CHECK_EQ(dropcopy_parse("risk1 risk2,risk3", &d, err, sizeof err), 0);
    CHECK_EQ(d.n, 3);
    CHECK_EQ(d.named, 0);
    CHECK_EQ(dropcopy_find(&d, "risk2"), 1);
    CHECK_EQ(dropcopy_find(&d, "alice"), -1);
    CHECK(dropcopy_covers(&d, 0, 7) && dropcopy_covers(&d, 2, 12345));
    CHECK(!dropcopy_covers(&d, -1, 7));
    CHECK_EQ(dropcopy_parse("", &d, err, sizeof err), 0);
    CHECK_EQ(d.n, 0);
}

static void entries_name_users(void)
{
    dropcopy d;
    char err[160];
    CHECK_EQ(dropcopy_parse("risk1: alice bob, clearing: *, desk:carol", &d, err, sizeof err), 0);
    CHECK_EQ(d.n, 3);
    CHECK_EQ(d.named, 1);
    CHECK(!strcmp(d.dc[0].name, "risk1") && !d.dc[0].all && d.dc[0].ncover == 2);
    CHECK(d.dc[1].all);
    CHECK(!strcmp(d.dc[2].name, "desk") && d.dc[2].ncover == 1);
    CHECK_EQ(dropcopy_mask(&d, "alice"), 1);
    CHECK_EQ(dropcopy_mask(&d, "bob"), 1);
    CHECK_EQ(dropcopy_mask(&d, "carol"), 4);
    CHECK_EQ(dropcopy_mask(&d, "dave"), 0);
    CHECK_EQ(dropcopy_mask(&d, "alic"), 0); /* whole names only */
}

static void refusals(void)
{
    const char *bad[] = {"a b: alice",       ": alice", "risk:",      "risk: * alice",
                         "risk: al!ce",      "*",       "risk, risk", "risk: alice_is_a_very_long_name",
                         "a,b,c,d,e,f,g,h,i"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[160] = "";
        int r = dropcopy_parse(bad[i], NULL, err, sizeof err);
        CHECK_EQ(r, -1);
        CHECK(err[0] != 0);
        if (r != -1)
            printf("# accepted: %s\n", bad[i]);
    }
}

static void no_event(void *ctx, const bourse_cmd *cmd, const bourse_event *ev)
{
    (void)ctx, (void)cmd, (void)ev;
}

static void table_follows_user_ids(void)
{
    bourse_limits lim = {.symbols = 4, .users = 8, .orders = 16, .ids = 32, .positions = 32};
    bourse_engine *e = bourse_engine_new(&lim);
    CHECK(e != NULL);
    const char *users[] = {"alice", "bob", "carol"};
    for (int i = 0; i < 3; i++) {
        bourse_cmd c = {
            .type = BOURSE_CMD_USER, .seq = (uint64_t)i + 1, .user = BOURSE_NONE, .symbol = BOURSE_NONE};
        memcpy(c.user_name.s, users[i], strlen(users[i]));
        bourse_engine_apply(e, &c, no_event, NULL);
    }
    dropcopy d;
    char err[160];
    CHECK_EQ(dropcopy_parse("risk: bob, all: *", &d, err, sizeof err), 0);
    CHECK_EQ(dropcopy_alloc(&d, lim.users), 0);
    CHECK(!dropcopy_covers(&d, 0, 1)); /* not learned yet: not covered */
    dropcopy_learn(&d, e, 2);
    CHECK_EQ(d.known, 3);
    CHECK(!dropcopy_covers(&d, 0, 0));
    CHECK(dropcopy_covers(&d, 0, 1));
    CHECK(!dropcopy_covers(&d, 0, 2));
    CHECK(dropcopy_covers(&d, 1, 0) && dropcopy_covers(&d, 1, 2));
    dropcopy_learn(&d, e, 100); /* past the table: ignored */
    CHECK_EQ(d.known, 3);
    dropcopy_free(&d);
    bourse_engine_free(e);
}

int main(void)
{
    RUN(old_form_covers_everyone);
    RUN(entries_name_users);
    RUN(refusals);
    RUN(table_follows_user_ids);
    return CHECK_DONE();
}
