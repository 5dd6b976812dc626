/*
 * hashmap.c - see hashmap.h.  Capacities are powers of two; a table is "full"
 * at half its slots so that apply() can refuse with CAPACITY before probe
 * chains grow long, and *_reserve() doubles it between commands.
 */
#include "hashmap.h"
#include "mem.h"

#include <stdlib.h>
#include <string.h>

static uint32_t pow2_at_least(uint64_t n)
{
    uint64_t c = 16;
    while (c < n)
        c <<= 1;
    return c > (1ULL << 31) ? (uint32_t)(1ULL << 31) : (uint32_t)c;
}

/* ---- u64map ---- */

static int u64map_alloc(u64map *m, uint32_t cap)
{
    /* Zeroed: a zero val marks a free slot, and untouched pages cost no RSS. */
    m->slots = bourse__mem_table(cap, sizeof *m->slots);
    if (!m->slots)
        return -1;
    m->mask = cap - 1;
    m->n = 0;
    return 0;
}

int bourse__u64map_init(u64map *m, uint32_t expected)
{
    return u64map_alloc(m, pow2_at_least((uint64_t)expected * 2));
}

void bourse__u64map_free(u64map *m)
{
    free(m->slots);
    m->slots = NULL;
}

void bourse__u64map_clear(u64map *m)
{
    if (m->n)
        memset(m->slots, 0, ((size_t)m->mask + 1) * sizeof *m->slots);
    m->n = 0;
}

bool bourse__u64map_full(const u64map *m)
{
    return m->n >= (m->mask + 1) / 2;
}

uint32_t bourse__u64map_get(const u64map *m, uint64_t key)
{
    for (uint32_t i = (uint32_t)hash_mix(key) & m->mask;; i = (i + 1) & m->mask) {
        const u64slot *s = &m->slots[i];
        if (s->val == 0 || s->key == key)
            return s->val - 1; /* 0 - 1 wraps to MAP_EMPTY */
    }
}

void bourse__u64map_put(u64map *m, uint64_t key, uint32_t val)
{
    uint32_t i = (uint32_t)hash_mix(key) & m->mask;
    while (m->slots[i].val != 0)
        i = (i + 1) & m->mask;
    m->slots[i].key = key;
    m->slots[i].val = val + 1;
    m->n++;
}

void bourse__u64map_del(u64map *m, uint64_t key)
{
    uint32_t i = (uint32_t)hash_mix(key) & m->mask;
    while (m->slots[i].val != 0 && m->slots[i].key != key)
        i = (i + 1) & m->mask;
    if (m->slots[i].val == 0)
        return;
    /* Backward shift: pull later members of the probe run into the hole. */
    for (uint32_t j = i;;) {
        j = (j + 1) & m->mask;
        if (m->slots[j].val == 0)
            break;
        uint32_t home = (uint32_t)hash_mix(m->slots[j].key) & m->mask;
        if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].val = 0;
    m->n--;
}

int bourse__u64map_reserve(u64map *m, uint32_t more)
{
    uint64_t need = (uint64_t)m->n + more;
    if (need <= (m->mask + 1) / 2)
        return 0;
    u64map old = *m;
    if (u64map_alloc(m, pow2_at_least(need * 2)) != 0) {
        *m = old;
        return -1;
    }
    for (uint32_t i = 0; i <= old.mask; i++)
        if (old.slots[i].val != 0)
            bourse__u64map_put(m, old.slots[i].key, old.slots[i].val - 1);
    free(old.slots);
    return 0;
}

/* ---- keymap ---- */

static int keymap_alloc(keymap *m, uint32_t cap)
{
    /* Zeroed: a zero val marks a free slot, and untouched pages cost no RSS. */
    m->slots = bourse__mem_table(cap, sizeof *m->slots);
    if (!m->slots)
        return -1;
    m->mask = cap - 1;
    m->n = 0;
    return 0;
}

int bourse__keymap_init(keymap *m, uint32_t expected)
{
    return keymap_alloc(m, pow2_at_least((uint64_t)expected * 2));
}

void bourse__keymap_free(keymap *m)
{
    free(m->slots);
    m->slots = NULL;
}

void bourse__keymap_clear(keymap *m)
{
    if (m->n)
        memset(m->slots, 0, ((size_t)m->mask + 1) * sizeof *m->slots);
    m->n = 0;
}

void bourse__keymap_prefetch(const keymap *m, uint32_t owner, const bourse_name *name)
{
    __builtin_prefetch(&m->slots[key_home(m, owner, name)]);
}

void bourse__u64map_prefetch(const u64map *m, uint64_t key)
{
    __builtin_prefetch(&m->slots[(uint32_t)hash_mix(key) & m->mask]);
}

uint32_t bourse__keymap_get(const keymap *m, uint32_t owner, const bourse_name *name)
{
    uint32_t slot;
    return bourse__keymap_probe(m, owner, name, &slot);
}

void bourse__keymap_put_at(keymap *m, uint32_t slot, uint32_t owner, const bourse_name *name, uint32_t val)
{
    m->slots[slot].owner = owner;
    m->slots[slot].name = *name;
    m->slots[slot].val = val + 1;
    m->n++;
}

void bourse__keymap_put(keymap *m, uint32_t owner, const bourse_name *name, uint32_t val)
{
    uint32_t i = key_home(m, owner, name);
    while (m->slots[i].val != 0)
        i = (i + 1) & m->mask;
    m->slots[i].owner = owner;
    m->slots[i].name = *name;
    m->slots[i].val = val + 1;
    m->n++;
}

/*
 * Removal in bulk, in place, with no tombstones: every kept key is taken out
 * and put again, in slot order from a slot that was free before anything was
 * removed.  A probe run never crosses a free slot, so each run is visited from
 * its start, and a key put again lands at or before where it was: no key ever
 * ends up beyond a hole on its own probe path.
 */
void bourse__keymap_retain(keymap *m, bool (*keep)(const void *ctx, const keyslot *k), const void *ctx)
{
    uint32_t start = 0;
    while (m->slots[start].val != 0) /* never full: at most half */
        start++;
    for (uint32_t k = 1; k <= m->mask; k++) {
        uint32_t i = (start + k) & m->mask;
        keyslot s = m->slots[i];
        if (s.val == 0)
            continue;
        m->slots[i].val = 0;
        m->n--;
        if (keep(ctx, &s))
            bourse__keymap_put(m, s.owner, &s.name, s.val - 1);
    }
}

int bourse__keymap_reserve(keymap *m, uint32_t more)
{
    uint64_t need = (uint64_t)m->n + more;
    if (need <= (m->mask + 1) / 2)
        return 0;
    keymap old = *m;
    if (keymap_alloc(m, pow2_at_least(need * 2)) != 0) {
        *m = old;
        return -1;
    }
    for (uint32_t i = 0; i <= old.mask; i++)
        if (old.slots[i].val != 0)
            bourse__keymap_put(m, old.slots[i].owner, &old.slots[i].name, old.slots[i].val - 1);
    free(old.slots);
    return 0;
}
