/*
 * dropcopy.h - which users each FIX drop copy session covers ([fix]
 * dropcopy, docs/fix.md "Drop copy").
 *
 * The setting is a list of entries separated by commas:
 *
 *     dropcopy = risk1: alice bob, clearing: *, audit
 *
 * An entry `NAME: USER...` makes NAME's FIX session a drop copy of the
 * reports of the users listed (spaces between); `NAME: *` and a bare `NAME`
 * (the first version's form, where several names could stand in one entry
 * with spaces between: `dropcopy = risk1 risk2`) cover every user.  At most
 * FIX_DC_MAX drop copies and FIX_DC_NAMES covered names in all.
 *
 * Where it is decided.  Reports are made at each user's home gateway from
 * the engine's events, which name users by id; the setting names them by
 * name.  The engine thread, which holds the names (bourse_user_name), keeps
 * one byte per user id (bit k: drop copy k covers the user), filled for each
 * id the first time an event names it (dropcopy_learn: one compare per
 * event after that, nothing per order otherwise) and written before the
 * event is pushed on the gateways' rings, whose release and acquire make it
 * visible to the gateway that reads it (dropcopy_covers).  A user created
 * later gets its byte when its first event comes.  Entries covering every
 * user need no table.  Names never change, nor do ids, so a byte once
 * written stays true.
 */
#ifndef BOURSE_SERVER_DROPCOPY_H
#define BOURSE_SERVER_DROPCOPY_H

#include "bourse/bourse.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum { FIX_DC_MAX = 8, FIX_DC_NAMES = 128 };

typedef struct dropcopy {
    uint32_t n; /* drop copy sessions */
    struct {
        char name[BOURSE_NAME_LEN + 1];
        uint8_t all;            /* covers every user */
        uint16_t first, ncover; /* its covered names: cover[first .. first+ncover) */
    } dc[FIX_DC_MAX];
    char cover[FIX_DC_NAMES][BOURSE_NAME_LEN + 1];
    uint32_t ncover;
    uint8_t named; /* some entry lists names: the table below is needed */
    /* by user id, bit k: dc[k] covers the user (engine thread writes) */
    _Atomic uint8_t *table;
    uint32_t cap, known; /* known: ids below it are filled (engine thread's) */
} dropcopy;

/* Parse spec ("" = no drop copy) into d (may be NULL: only check); 0, or -1
 * with why in err. */
int dropcopy_parse(const char *spec, dropcopy *d, char *err, size_t errlen);
/* The index of name's drop copy, or -1 when it is not one. */
int dropcopy_find(const dropcopy *d, const char *name);
/* The bits of the drop copies that list this name (named entries only). */
uint8_t dropcopy_mask(const dropcopy *d, const char *user);
/* The table for users 0..users-1, when some entry lists names; -1: memory. */
int dropcopy_alloc(dropcopy *d, uint32_t users);
void dropcopy_free(dropcopy *d);
/* Engine thread: fill the table up to user (an id events name). */
void dropcopy_learn(dropcopy *d, const bourse_engine *e, uint32_t user);

/* Gateway thread: whether drop copy k covers user. */
static inline int dropcopy_covers(const dropcopy *d, int k, uint32_t user)
{
    if (k < 0)
        return 0;
    if (d->dc[k].all)
        return 1;
    return user < d->cap && (atomic_load_explicit(&d->table[user], memory_order_relaxed) >> k & 1);
}

#endif
