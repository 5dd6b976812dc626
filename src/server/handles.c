/*
 * handles.c - see handles.h.  One slot per (user, token) hash, direct
 * mapped: a lookup reads one 24-byte slot, and a collision simply replaces
 * the older order's entry (handles.h explains why losing one is harmless).
 */
#include "server/handles.h"

#include <stdlib.h>
#include <string.h>

int handle_cache_init(handle_cache *c, uint32_t slots)
{
    uint32_t n = 16;
    while (n < slots && n < (1u << 24))
        n <<= 1;
    *c = (handle_cache){.slots = calloc(n, sizeof *c->slots), .mask = n - 1};
    return c->slots ? 0 : -1;
}

void handle_cache_free(handle_cache *c)
{
    free(c->slots);
    c->slots = NULL;
}

static handle_slot *slot_of(const handle_cache *c, uint32_t user, const bourse_name *token)
{
    uint64_t a, b;
    memcpy(&a, token->s, 8);
    memcpy(&b, token->s + 8, 8);
    uint64_t h = (a ^ (uint64_t)user << 32) * 0x9e3779b97f4a7c15ULL;
    h = (h ^ (h >> 29) ^ b) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return &c->slots[(uint32_t)h & c->mask];
}

uint32_t handle_cache_get(handle_cache *c, uint32_t user, const bourse_name *token)
{
    const handle_slot *s = slot_of(c, user, token);
    if (s->handle && s->user == user && !memcmp(s->token.s, token->s, BOURSE_NAME_LEN)) {
        c->hits++;
        return s->handle;
    }
    c->misses++;
    return 0;
}

static void put(handle_cache *c, uint32_t user, const bourse_name *token, uint32_t handle)
{
    handle_slot *s = slot_of(c, user, token);
    s->user = user;
    s->handle = handle;
    s->token = *token;
}

static void forget(handle_cache *c, uint32_t user, const bourse_name *token)
{
    handle_slot *s = slot_of(c, user, token);
    if (s->user == user && !memcmp(s->token.s, token->s, BOURSE_NAME_LEN))
        s->handle = 0;
}

void handle_cache_follow(handle_cache *c, const bourse_event *ev)
{
    switch (ev->type) {
    case BOURSE_EV_ACCEPTED:
        if (ev->order) /* 0: an ioc or fok order, which never rests */
            put(c, ev->user, &ev->oid, ev->order);
        break;
    case BOURSE_EV_REPLACED: /* oid the old token, oid2 the new; the handle stays */
        forget(c, ev->user, &ev->oid);
        put(c, ev->user, &ev->oid2, ev->order);
        break;
    case BOURSE_EV_CANCELED: forget(c, ev->user, &ev->oid); break;
    default: break;
    }
}

void handle_cache_stamp(handle_cache *c, bourse_cmd *cmd)
{
    if (cmd->type == BOURSE_CMD_CANCEL || cmd->type == BOURSE_CMD_REPLACE)
        cmd->order = handle_cache_get(c, cmd->user, &cmd->oid);
}
