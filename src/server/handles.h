/*
 * handles.h - a gateway's cache of its users' order handles: the client's
 * order token resolved to the core's dense order handle before a cancel or
 * replace reaches the engine (issue #20).
 *
 * The core finds the order a cancel or replace names either by hashing
 * (user, 16-byte id) in its id map, a table of every id taken (big, and
 * cold: its probe was most of the core's time on cancels), or through
 * bourse_cmd.order, the handle its ACCEPTED carried, by index.  The gateway
 * sees every ACCEPTED, REPLACED and CANCELED of its home users anyway (to
 * report them), so it keeps token -> handle here, on its own thread, in
 * parallel with the engine's matching, and stamps the handle on the
 * command.
 *
 * It is a cache, not a map: a fixed table of slots chosen by a hash of
 * (user, token), the newest order taking a slot over.  That is enough
 * because the handle is a hint the engine checks (the slot it names must be
 * open with this user and id, else the engine looks the id up as before),
 * so a stale, overwritten or missing entry costs a hash probe in the core
 * and never changes an answer; the journal and the replay text do not carry
 * it.  Nothing is allocated after init and nothing grows: a gateway with
 * more open orders than slots only hits less often.
 */
#ifndef BOURSE_SERVER_HANDLES_H
#define BOURSE_SERVER_HANDLES_H

#include "bourse/bourse.h"

#include <stdint.h>

typedef struct handle_slot {
    uint32_t user;
    uint32_t handle; /* 0: empty */
    bourse_name token;
} handle_slot;

typedef struct handle_cache {
    handle_slot *slots;
    uint32_t mask;
    uint64_t hits, misses; /* lookups that found a handle, and those that did not */
} handle_cache;

/* `slots` is rounded up to a power of two (at least 16).  -1: no memory. */
int handle_cache_init(handle_cache *c, uint32_t slots);
void handle_cache_free(handle_cache *c);
/* The handle of the user's order `token`, or 0 when not known. */
uint32_t handle_cache_get(handle_cache *c, uint32_t user, const bourse_name *token);
/* Follow one engine event of a home user: an ACCEPTED that rests and a
 * REPLACED enter the order's token, a CANCELED or REPLACED forget the old
 * one.  Other events change nothing (a fill that ends an order leaves a
 * stale entry, which the engine refuses as a hint). */
void handle_cache_follow(handle_cache *c, const bourse_event *ev);
/* Set cmd->order for a CANCEL or REPLACE from the cache (user and oid set). */
void handle_cache_stamp(handle_cache *c, bourse_cmd *cmd);

#endif
