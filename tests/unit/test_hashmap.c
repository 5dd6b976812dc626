/*
 * test_hashmap.c - the core's hash tables (src/core/hashmap.c) against a
 * plain array model: random inserts, lookups and backward-shift deletes,
 * with keys chosen to collide and to wrap around the end of the table, and
 * growth by *_reserve() keeping every entry.
 */
#include "check.h"
#include "core/hashmap.h"

#include <string.h>

static uint64_t rs = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return rs;
}

/* The model: parallel arrays, linear search. */
enum { MODEL_MAX = 4096 };
static uint64_t mkeys[MODEL_MAX];
static uint32_t mvals[MODEL_MAX];
static int mn;

static int model_find(uint64_t k)
{
    for (int i = 0; i < mn; i++)
        if (mkeys[i] == k)
            return i;
    return -1;
}

/* Every slot's key must be reachable from its home without crossing a free
 * slot: what backward-shift deletion has to preserve. */
static int chains_intact(const u64map *m)
{
    for (uint32_t i = 0; i <= m->mask; i++) {
        if (!m->slots[i].val)
            continue;
        for (uint32_t j = (uint32_t)hash_mix(m->slots[i].key) & m->mask; j != i; j = (j + 1) & m->mask)
            if (!m->slots[j].val)
                return 0;
    }
    return 1;
}

/* Every key of the model is there with its value, and no other. */
static int agrees(const u64map *m, const uint64_t *pool, int npool)
{
    uint32_t found = 0;
    if (m->n != (uint32_t)mn)
        return 0;
    for (int i = 0; i < mn; i++)
        if (bourse__u64map_get(m, mkeys[i]) != mvals[i])
            return 0;
    for (int i = 0; i < npool; i++)
        found += bourse__u64map_get(m, pool[i]) != MAP_EMPTY;
    return found == (uint32_t)mn && chains_intact(m);
}

/* Keys whose home slot (in a table of mask+1 slots) is one of `homes`. */
static int colliding_keys(uint64_t *out, int n, uint32_t mask, const uint32_t *homes, int nhomes)
{
    int k = 0;
    for (uint64_t x = 1; k < n; x++) {
        uint32_t h = (uint32_t)hash_mix(x) & mask;
        for (int j = 0; j < nhomes; j++)
            if (h == homes[j]) {
                out[k++] = x;
                break;
            }
    }
    return k;
}

static void random_ops(u64map *m, const uint64_t *pool, int npool, int ops, const char *what)
{
    int bad = 0;
    for (int op = 0; op < ops && !bad; op++) {
        uint64_t k = pool[rnd() % (uint64_t)npool];
        int at = model_find(k);
        if (rnd() % 3 == 0 && at >= 0) {
            bourse__u64map_del(m, k);
            mkeys[at] = mkeys[mn - 1], mvals[at] = mvals[mn - 1], mn--;
        } else if (at < 0 && !bourse__u64map_full(m)) {
            uint32_t v = (uint32_t)(rnd() % 1000000);
            bourse__u64map_put(m, k, v);
            mkeys[mn] = k, mvals[mn++] = v;
        } else if (at < 0) {
            bourse__u64map_del(m, k); /* absent: a no-op */
        }
        if (!agrees(m, pool, npool)) {
            printf("FAIL %s: table and model differ after op %d\n", what, op);
            bad = 1;
        }
    }
    check_failures += bad;
}

static void test_u64map_collisions(void)
{
    u64map m;
    CHECK_EQ(bourse__u64map_init(&m, 32), 0); /* 64 slots, full at 32 */
    CHECK_EQ(m.mask, 63);
    /* Homes at the very end of the table, so chains wrap to slot 0, and a
     * couple in the middle, so chains from different homes merge. */
    uint32_t homes[] = {62, 63, 0, 30, 31};
    uint64_t pool[60];
    colliding_keys(pool, 60, m.mask, homes, 5);
    mn = 0;
    random_ops(&m, pool, 60, 20000, "test_u64map_collisions");
    /* Drain it: every delete keeps the rest findable. */
    while (mn && !check_failures) {
        bourse__u64map_del(&m, mkeys[0]);
        mkeys[0] = mkeys[mn - 1], mvals[0] = mvals[mn - 1], mn--;
        CHECK(agrees(&m, pool, 60));
    }
    CHECK_EQ(m.n, 0);
    for (uint32_t i = 0; i <= m.mask; i++)
        CHECK_EQ(m.slots[i].val, 0);
    bourse__u64map_free(&m);
}

static void test_u64map_random(void)
{
    u64map m;
    CHECK_EQ(bourse__u64map_init(&m, 200), 0);
    static uint64_t pool[600];
    for (int i = 0; i < 600; i++)
        pool[i] = i % 3 ? rnd() : (uint64_t)i; /* small and large keys, key 0 too */
    mn = 0;
    random_ops(&m, pool, 600, 6000, "test_u64map_random");
    bourse__u64map_free(&m);
}

static void test_u64map_full_and_reserve(void)
{
    u64map m;
    CHECK_EQ(bourse__u64map_init(&m, 4), 0); /* the minimum: 16 slots */
    CHECK_EQ(m.mask, 15);
    for (uint64_t k = 0; k < 8; k++) {
        CHECK(!bourse__u64map_full(&m));
        bourse__u64map_put(&m, k * 1000003, (uint32_t)k);
    }
    CHECK(bourse__u64map_full(&m));
    CHECK_EQ(bourse__u64map_reserve(&m, 0), 0);
    CHECK_EQ(m.mask, 15);
    uint32_t v = 8;
    for (int round = 0; round < 8; round++) {
        CHECK_EQ(bourse__u64map_reserve(&m, 100), 0);
        CHECK(m.n + 100 <= (m.mask + 1) / 2);
        for (int i = 0; i < 100; i++, v++)
            bourse__u64map_put(&m, (uint64_t)v * 1000003, v);
        for (uint32_t k = 0; k < v; k++)
            if (bourse__u64map_get(&m, (uint64_t)k * 1000003) != k) {
                printf("FAIL test_u64map_full_and_reserve: key %u lost after growth\n", k);
                check_failures++;
                break;
            }
    }
    CHECK_EQ(m.n, 808);
    CHECK(chains_intact(&m));
    bourse__u64map_del(&m, 12345); /* absent */
    CHECK_EQ(m.n, 808);
    bourse__u64map_free(&m);
}

static bourse_name name_of(uint32_t i)
{
    bourse_name n = {{0}};
    snprintf(n.s, sizeof n.s, "id%u", i);
    return n;
}

static void test_keymap(void)
{
    keymap m;
    CHECK_EQ(bourse__keymap_init(&m, 8), 0);
    /* The same name under different owners is a different key. */
    int bad = 0;
    uint32_t total = 0;
    for (uint32_t round = 0; round < 6; round++) {
        CHECK_EQ(bourse__keymap_reserve(&m, 500), 0);
        for (uint32_t i = 0; i < 500; i++, total++) {
            CHECK(!bourse__keymap_full(&m));
            bourse_name n = name_of(total / 3);
            bourse__keymap_put(&m, total % 3, &n, total);
        }
        for (uint32_t k = 0; k < total && bad < 3; k++) {
            bourse_name n = name_of(k / 3);
            if (bourse__keymap_get(&m, k % 3, &n) != k && ++bad)
                printf("FAIL test_keymap: key %u (owner %u) lost\n", k, k % 3);
        }
    }
    check_failures += bad;
    CHECK_EQ(m.n, 3000);
    bourse_name n = name_of(1);
    CHECK_EQ(bourse__keymap_get(&m, 3, &n), MAP_EMPTY);
    n = name_of(5000);
    CHECK_EQ(bourse__keymap_get(&m, 0, &n), MAP_EMPTY);
    /* All 16 bytes count, not just up to the first zero. */
    bourse_name a = {{0}}, b = {{0}};
    memcpy(a.s, "abcdefghijklmnop", 16);
    memcpy(b.s, "abcdefghijklmnoq", 16);
    CHECK_EQ(bourse__keymap_reserve(&m, 2), 0);
    bourse__keymap_put(&m, 7, &a, 1);
    CHECK_EQ(bourse__keymap_get(&m, 7, &a), 1);
    CHECK_EQ(bourse__keymap_get(&m, 7, &b), MAP_EMPTY);
    bourse__keymap_free(&m);

    /* Full at half its slots; reserve(0) on a full table leaves it. */
    CHECK_EQ(bourse__keymap_init(&m, 1), 0);
    for (uint32_t i = 0; i < 8; i++) {
        bourse_name k = name_of(i);
        bourse__keymap_put(&m, 0, &k, i);
    }
    CHECK(bourse__keymap_full(&m));
    CHECK_EQ(bourse__keymap_reserve(&m, 1), 0);
    CHECK(!bourse__keymap_full(&m));
    for (uint32_t i = 0; i < 8; i++) {
        bourse_name k = name_of(i);
        CHECK_EQ(bourse__keymap_get(&m, 0, &k), i);
    }
    bourse__keymap_free(&m);
}

static bool keep_marked(const void *ctx, const keyslot *k)
{
    const unsigned char *keep = ctx;
    return keep[k->val - 1];
}

/*
 * Bulk removal in place: over many small, full tables (long probe runs that
 * wrap past the end), keep a random part, then every kept key must still be
 * found, every removed one must be gone, and the table must take new keys
 * up to full again without losing any.
 */
static void test_keymap_retain(void)
{
    uint64_t x = 88172645463325252ULL;
    int bad = 0;
    for (int round = 0; round < 2000 && bad < 3; round++) {
        keymap m;
        uint32_t size = 16u << (round % 4), half = size / 2, base = (uint32_t)round * 1000;
        CHECK_EQ(bourse__keymap_init(&m, half), 0);
        unsigned char keep[4096] = {0};
        int pct = round % 5 == 0 ? 0 : round % 5 == 1 ? 100 : (int)(x % 100);
        for (uint32_t i = 0; i < half; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            bourse_name n = name_of(base + i);
            bourse__keymap_put(&m, (uint32_t)(x % 5), &n, i);
            keep[i] = (int)(x % 100) < pct;
        }
        uint32_t owners[4096], kept = 0;
        for (uint32_t i = 0; i <= m.mask; i++)
            if (m.slots[i].val)
                owners[m.slots[i].val - 1] = m.slots[i].owner;
        for (uint32_t i = 0; i < half; i++)
            kept += keep[i];
        bourse__keymap_retain(&m, keep_marked, keep);
        if (m.n != kept && ++bad)
            printf("FAIL test_keymap_retain: round %d: %u keys left, want %u\n", round, m.n, kept);
        for (uint32_t i = half; i < half + (half - kept); i++) { /* refill to full */
            bourse_name n = name_of(base + i);
            owners[i] = 7;
            keep[i] = 1;
            bourse__keymap_put(&m, 7, &n, i);
        }
        for (uint32_t i = 0; i < half + (half - kept) && bad < 3; i++) {
            bourse_name n = name_of(base + i);
            uint32_t want = keep[i] ? i : MAP_EMPTY;
            if (bourse__keymap_get(&m, owners[i], &n) != want && ++bad)
                printf("FAIL test_keymap_retain: round %d: key %u %s\n", round, i,
                       keep[i] ? "kept but not found" : "removed but still found");
        }
        CHECK(bourse__keymap_full(&m));
        bourse__keymap_free(&m);
    }
    check_failures += bad;
}

int main(void)
{
    RUN(test_u64map_collisions);
    RUN(test_u64map_random);
    RUN(test_u64map_full_and_reserve);
    RUN(test_keymap);
    RUN(test_keymap_retain);
    return CHECK_DONE();
}
