/*
 * hashmap.h - open-addressing hash tables with fixed-size keys.
 *
 * Two shapes cover every lookup in the core:
 *   u64map: 64-bit key -> 32-bit value, with deletion (levels, positions,
 *           symbols).  Linear probing with backward-shift deletion, so there
 *           are no tombstones and probe chains never degrade over a long run.
 *   keymap: (32-bit owner, 16-byte name) -> 32-bit value, insert-only but
 *           for a bulk bourse__keymap_retain() (user names; order ids, which stay
 *           taken for the run or, with BOURSE_DAY_IDS, the trading day).
 * Tables are sized at creation and only grow through *_reserve(), which the
 * engine calls outside of apply(); a table never fills past half, so probes
 * stay short.
 */
#ifndef BOURSE_CORE_HASHMAP_H
#define BOURSE_CORE_HASHMAP_H

#include "bourse/bourse.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MAP_EMPTY UINT32_MAX

typedef struct u64slot {
    uint64_t key;
    uint32_t val; /* value + 1; 0 marks a free slot */
    uint32_t pad_;
} u64slot;

typedef struct u64map {
    u64slot *slots;
    uint32_t mask, n;
} u64map;

typedef struct keyslot {
    uint32_t owner;
    uint32_t val; /* value + 1; 0 marks a free slot */
    bourse_name name;
} keyslot;

typedef struct keymap {
    keyslot *slots;
    uint32_t mask, n;
} keymap;

static inline uint64_t hash_mix(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return x;
}

int bourse__u64map_init(u64map *m, uint32_t expected);
void bourse__u64map_free(u64map *m);
/* Room for `more` further keys without passing half full; -1 on no memory. */
int bourse__u64map_reserve(u64map *m, uint32_t more);
bool bourse__u64map_full(const u64map *m);
uint32_t bourse__u64map_get(const u64map *m, uint64_t key);
void bourse__u64map_put(u64map *m, uint64_t key, uint32_t val); /* key must be absent */
void bourse__u64map_del(u64map *m, uint64_t key);

/* Empty the table, keeping its memory (touched only when it held keys). */
void bourse__u64map_clear(u64map *m);
void bourse__keymap_clear(keymap *m);
int bourse__keymap_init(keymap *m, uint32_t expected);
void bourse__keymap_free(keymap *m);
int bourse__keymap_reserve(keymap *m, uint32_t more);
static inline bool bourse__keymap_full(const keymap *m)
{
    return m->n >= (m->mask + 1) / 2;
}
uint32_t bourse__keymap_get(const keymap *m, uint32_t owner, const bourse_name *name);
/* Keep only the keys for which keep() is true; one pass over the table. */
void bourse__keymap_retain(keymap *m, bool (*keep)(const void *ctx, const keyslot *k), const void *ctx);
void bourse__keymap_put(keymap *m, uint32_t owner, const bourse_name *name, uint32_t val);
void bourse__keymap_put_at(keymap *m, uint32_t slot, uint32_t owner, const bourse_name *name, uint32_t val);
/* Start loading the slot where a lookup of the key would begin. */
void bourse__keymap_prefetch(const keymap *m, uint32_t owner, const bourse_name *name);
void bourse__u64map_prefetch(const u64map *m, uint64_t key);

/* Inline: every new order and move probes once (no LTO across files). */
/*
 * The home slot of a keymap key.  Order ids are mostly counters ("1041",
 * "A-000123"), and the id map grows with every id ever used, far past any
 * cache: hashing whole ids would send each new id to a cold line.  So the
 * hash covers the owner and the name without its last character, and that
 * character's low 4 bits pick a slot within a run of 16 from there: the ids
 * a user sends one after another share a few lines, which the previous id
 * has just brought into cache.  Unrelated ids still scatter, since the rest
 * of the key decides where the run starts.
 */
static inline uint32_t key_home(const keymap *m, uint32_t owner, const bourse_name *name)
{
    uint64_t a, b;
    memcpy(&a, name->s, 8);
    memcpy(&b, name->s + 8, 8);
    /* Names are zero-padded: the last character is the top nonzero byte. */
    uint64_t last;
    if (b) {
        int sh = (63 - __builtin_clzll(b)) & ~7;
        last = b >> sh;
        b &= ~(0xffULL << sh);
    } else if (a) {
        int sh = (63 - __builtin_clzll(a)) & ~7;
        last = a >> sh;
        a &= ~(0xffULL << sh);
    } else {
        last = 0;
    }
    uint64_t h = hash_mix(a ^ hash_mix(b ^ ((uint64_t)owner << 1 | 1)));
    return ((uint32_t)h + (uint32_t)(last & 15)) & m->mask;
}

/* bourse__keymap_get() that also tells, in *slot, where the key would be put: a
 * later bourse__keymap_put_at() of the same key, with no other put in between,
 * stores it there without searching again. */
static inline uint32_t bourse__keymap_probe(const keymap *m, uint32_t owner, const bourse_name *name,
                                            uint32_t *slot)
{
    for (uint32_t i = key_home(m, owner, name);; i = (i + 1) & m->mask) {
        const keyslot *s = &m->slots[i];
        if (s->val == 0) {
            *slot = i;
            return MAP_EMPTY;
        }
        if (s->owner == owner && memcmp(s->name.s, name->s, BOURSE_NAME_LEN) == 0)
            return s->val - 1;
    }
}

#endif
