/*
 * journal_gen.h - a deterministic stream of commands for the journal and
 * snapshot tests: symbols, users and deposits, then orders of every kind,
 * cancels, replaces, sessions, limits, withdrawals, queries, and some
 * commands naming users and symbols that do not exist (so records carry
 * names as well as ids).  Commands come with names, unresolved, as the text
 * parser gives them.  With jgen_v2 set (before jgen_init), one command in
 * ten is one of replay format version 2 (rules, fees, halts, the kill
 * switch, cancelall, the emergency stop, market orders).
 */
#ifndef BOURSE_TEST_JOURNAL_GEN_H
#define BOURSE_TEST_JOURNAL_GEN_H

#include "bourse/bourse.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct jgen {
    uint64_t rng;
    uint64_t n; /* commands made so far */
    int users, symbols;
    uint64_t oids; /* order ids handed out */
    int v2;
} jgen;

static int jgen_v2; /* jgen_init: make version 2 commands too */

enum { JGEN_USERS = 40, JGEN_SYMBOLS = 5 };

static uint64_t jgen_rand(jgen *g)
{
    g->rng ^= g->rng << 13; /* xorshift64 */
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static void jgen_init(jgen *g, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
    g->v2 = jgen_v2;
}

/* Copy a short string into a zero-padded name field. */
static void jgen_name(char *dst, size_t max, const char *src)
{
    memset(dst, 0, max);
    memcpy(dst, src, strlen(src) < max ? strlen(src) : max);
}

static void jgen_user(jgen *g, int u, bourse_name *out)
{
    char tmp[32];
    if (u < 0)
        snprintf(tmp, sizeof tmp, "ghost%d", (int)(jgen_rand(g) % 3));
    else
        snprintf(tmp, sizeof tmp, "trader-%d", u % 1000);
    jgen_name(out->s, BOURSE_NAME_LEN, tmp);
}

static void jgen_symbol(jgen *g, int s, bourse_symbol_name *out)
{
    memset(out, 0, sizeof *out);
    static const char *const names[JGEN_SYMBOLS] = {"ACME", "BRK.B", "Z9", "QQQ", "X"};
    if (s < 0) {
        memcpy(out->s, "NOPE", 4);
        (void)g;
    } else {
        memcpy(out->s, names[s], strlen(names[s]));
    }
}

static void jgen_oid(bourse_name *out, uint64_t id)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "o%llu", (unsigned long long)(id % 1000000000000ULL));
    jgen_name(out->s, BOURSE_NAME_LEN, tmp);
}

/* A command of version 2 (c is zeroed, ids unresolved). */
static void jgen_next_v2(jgen *g, bourse_cmd *c, int u, int s)
{
    uint64_t r = jgen_rand(g) % 100;
    if (r < 5) {
        c->type = BOURSE_CMD_USER;
        jgen_name(c->user_name.s, BOURSE_NAME_LEN, "FEES");
    } else if (r < 35) {
        c->type = BOURSE_CMD_ORDER; /* a market order */
        jgen_user(g, u, &c->user_name);
        jgen_symbol(g, s, &c->symbol_name);
        jgen_oid(&c->oid, ++g->oids);
        c->side = (uint8_t)(jgen_rand(g) & 1);
        c->tif = jgen_rand(g) & 1 ? BOURSE_IOC : BOURSE_FOK;
        c->qty = 1 + (int64_t)(jgen_rand(g) % 300);
        c->price = BOURSE_MARKET;
    } else if (r < 55) {
        c->type = BOURSE_CMD_RULES;
        jgen_symbol(g, s, &c->symbol_name);
        static const int64_t vals[6][2] = {{100, 1},           {1, 5},    {0, 200},
                                           {0, 50000000000LL}, {0, 1000}, {99000, 101000}};
        for (int k = 0; k < 6; k++)
            c->set[k] = jgen_rand(g) % 3 ? BOURSE_UNSET : vals[k][jgen_rand(g) & 1];
        c->set[BOURSE_RULE_BAND] = c->set[BOURSE_RULE_BAND] == BOURSE_UNSET ? 500 : c->set[BOURSE_RULE_BAND];
    } else if (r < 65) {
        c->type = BOURSE_CMD_FEES;
        jgen_symbol(g, s, &c->symbol_name);
        c->set[BOURSE_FEE_MAKER] = (int64_t)(jgen_rand(g) % 30);
        c->set[BOURSE_FEE_TAKER] = jgen_rand(g) & 1 ? BOURSE_UNSET : (int64_t)(jgen_rand(g) % 1001);
        for (int k = 2; k < 6; k++)
            c->set[k] = BOURSE_UNSET;
    } else if (r < 75) {
        c->type = jgen_rand(g) & 1 ? BOURSE_CMD_HALT : BOURSE_CMD_RESUME;
        jgen_symbol(g, s, &c->symbol_name);
    } else if (r < 85) {
        c->type = jgen_rand(g) % 3 ? BOURSE_CMD_UNBLOCK : BOURSE_CMD_BLOCK;
        jgen_user(g, u, &c->user_name);
    } else if (r < 95) {
        c->type = BOURSE_CMD_CANCELALL;
        jgen_user(g, u, &c->user_name);
        if (jgen_rand(g) & 1)
            jgen_symbol(g, s, &c->symbol_name);
    } else {
        c->type = jgen_rand(g) & 1 ? BOURSE_CMD_HALTALL : BOURSE_CMD_RESUMEALL;
    }
}

/* The next command. */
static void jgen_next(jgen *g, bourse_cmd *c)
{
    memset(c, 0, sizeof *c);
    c->user = c->symbol = BOURSE_NONE;
    uint64_t i = g->n++;
    if (g->symbols < JGEN_SYMBOLS) {
        c->type = BOURSE_CMD_SYMBOL;
        jgen_symbol(g, g->symbols++, &c->symbol_name);
        return;
    }
    if (g->users < JGEN_USERS * 3) { /* user, cash, shares of one symbol */
        int u = g->users / 3, step = g->users++ % 3;
        jgen_user(g, u, &c->user_name);
        if (step == 0) {
            c->type = BOURSE_CMD_USER;
        } else {
            c->type = BOURSE_CMD_DEPOSIT;
            if (step == 1) {
                memcpy(c->symbol_name.s, "CASH", 4);
                c->qty = 1000000LL * BOURSE_SCALE;
            } else {
                jgen_symbol(g, u % JGEN_SYMBOLS, &c->symbol_name);
                c->qty = 100000;
            }
        }
        return;
    }
    uint64_t r = jgen_rand(g) % 1000;
    int u = (int)(jgen_rand(g) % JGEN_USERS);
    int s = (int)(jgen_rand(g) % JGEN_SYMBOLS);
    if (r < 5)
        u = -1; /* unknown user: the record must carry the name */
    if (g->v2 && jgen_rand(g) % 10 == 0)
        return jgen_next_v2(g, c, u, s);
    jgen_user(g, u, &c->user_name);
    uint64_t back = g->oids ? 1 + jgen_rand(g) % (g->oids < 50 ? g->oids : 50) : 1;
    if (r < 600) {
        c->type = BOURSE_CMD_ORDER;
        jgen_symbol(g, r < 8 ? -1 : s, &c->symbol_name);
        jgen_oid(&c->oid, ++g->oids);
        c->side = (uint8_t)(jgen_rand(g) & 1);
        uint64_t t = jgen_rand(g) % 10;
        c->tif = t < 6 ? BOURSE_DAY : t < 8 ? BOURSE_GTC : t < 9 ? BOURSE_IOC : BOURSE_FOK;
        c->qty = 1 + (int64_t)(jgen_rand(g) % 300);
        int64_t off = (int64_t)(jgen_rand(g) % 21) - 8;
        c->price = (1000 + (c->side == BOURSE_BUY ? -off : off)) * 100;
    } else if (r < 780) {
        c->type = BOURSE_CMD_CANCEL;
        jgen_oid(&c->oid, g->oids + 1 - back);
    } else if (r < 900) {
        c->type = BOURSE_CMD_REPLACE;
        jgen_oid(&c->oid, g->oids + 1 - back);
        jgen_oid(&c->new_oid, ++g->oids);
        c->qty = 1 + (int64_t)(jgen_rand(g) % 300);
        c->price = (992 + (int64_t)(jgen_rand(g) % 17)) * 100;
    } else if (r < 920) {
        c->type = jgen_rand(g) & 1 ? BOURSE_CMD_DEPOSIT : BOURSE_CMD_WITHDRAW;
        if (jgen_rand(g) & 1) {
            memcpy(c->symbol_name.s, "CASH", 4);
            c->qty = 1 + (int64_t)(jgen_rand(g) % 100000000);
        } else {
            jgen_symbol(g, r < 905 ? -1 : s, &c->symbol_name);
            c->qty = 1 + (int64_t)(jgen_rand(g) % 1000);
        }
    } else if (r < 935) {
        c->type = BOURSE_CMD_LIMIT;
        c->qty = jgen_rand(g) % 4 ? 0 : (int64_t)(jgen_rand(g) % 5000);
    } else if (r < 960) {
        c->type = BOURSE_CMD_BOOK;
        memset(&c->user_name, 0, sizeof c->user_name);
        jgen_symbol(g, r < 940 ? -1 : s, &c->symbol_name);
    } else if (r < 980) {
        c->type = BOURSE_CMD_BALANCE;
    } else if (r < 985) {
        c->type = (i / 7) & 1 ? BOURSE_CMD_CLOSE : BOURSE_CMD_OPEN;
        memset(&c->user_name, 0, sizeof c->user_name);
    } else if (r < 990) {
        c->type = BOURSE_CMD_OPEN;
        memset(&c->user_name, 0, sizeof c->user_name);
    } else if (r < 995) {
        c->type = BOURSE_CMD_USER; /* a new user, or a duplicate */
        if (jgen_rand(g) & 1) {
            char tmp[32];
            snprintf(tmp, sizeof tmp, "late%llu", (unsigned long long)(i % 100000000000ULL));
            jgen_name(c->user_name.s, BOURSE_NAME_LEN, tmp);
        }
    } else {
        c->type = BOURSE_CMD_SYMBOL; /* mostly duplicates */
        jgen_symbol(g, s, &c->symbol_name);
        memset(&c->user_name, 0, sizeof c->user_name);
    }
}

#endif
