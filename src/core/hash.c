/*
 * hash.c - a 64-bit digest of the engine's whole state in canonical order.
 *
 * Canonical means independent of how the state is laid out in memory: pool
 * slots, free lists and hash-table sizes differ between a live engine, one
 * recovered from a snapshot and one that grew while replaying, but the hash
 * walks users and symbols by id, books best level first and queues in time
 * order, and folds the set of taken order ids order-independently.  Equal
 * hashes therefore mean equal observable behaviour from here on.
 */
#include "internal.h"

typedef struct hasher {
    uint64_t h;
} hasher;

static void mix(hasher *s, uint64_t v)
{
    s->h = hash_mix(s->h ^ v) + 0x9e3779b97f4a7c15ULL;
}

static void mix_bytes(hasher *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = 0;
        memcpy(&v, b + i, n - i < 8 ? n - i : 8);
        mix(s, v);
    }
}

static void hash_book(hasher *s, const bourse_engine *e, const instrument *sym)
{
    for (int side = 0; side < 2; side++) {
        const book_side *bs = &sym->side[side];
        mix(s, side_levels(bs));
        side_iter it;
        for (uint32_t lv = bourse__side_first(bs, &it); lv != NIL; lv = bourse__side_next(&it)) {
            const level *l = &e->levels[lv];
            mix(s, (uint64_t)l->price);
            mix(s, (uint64_t)l->qty);
            mix(s, l->count);
            for (uint32_t o = l->head; o != NIL; o = e->orders[o].next) {
                const order *ord = &e->orders[o];
                mix(s, ord->user);
                mix(s, ord->qty);
                mix(s, ord->tif);
                mix(s, (uint64_t)ord->maker << 16 | ord->hold_rate);
                mix_bytes(s, ord->oid.s, BOURSE_NAME_LEN);
            }
        }
    }
}

uint64_t bourse_engine_hash(const bourse_engine *e)
{
    hasher s = {0x6a09e667f3bcc908ULL};
    mix(&s, e->is_open | (uint64_t)e->halted_all << 1);
    if (e->acct) /* an engine that never saw an account hashes as before accounts existed */
        mix(&s, bourse__accounts_digest(e));
    mix(&s, (uint64_t)e->cash_total);
    mix(&s, e->nsymbols);
    for (uint32_t i = 0; i < e->nsymbols; i++) {
        const instrument *sym = &e->symbols[i];
        mix_bytes(&s, sym->name.s, BOURSE_SYMBOL_LEN);
        mix(&s, (uint64_t)sym->total);
        /* The venue rules (replay-v2.md): they decide future answers. */
        mix(&s, (uint64_t)sym->tick);
        mix(&s, (uint64_t)sym->maxnotional);
        mix(&s, (uint64_t)sym->ref);
        mix(&s, (uint64_t)sym->lot << 32 | sym->maxqty);
        mix(&s, (uint64_t)sym->band << 32 | (uint64_t)sym->maker << 16 | sym->taker);
        mix(&s, sym->halted);
        hash_book(&s, e, sym);
    }
    mix(&s, e->nusers);
    for (uint32_t i = 0; i < e->nusers; i++) {
        const account *u = &e->users[i];
        mix_bytes(&s, u->name.s, BOURSE_NAME_LEN);
        mix(&s, (uint64_t)u->cash);
        mix(&s, (uint64_t)u->cash_held);
        mix(&s, (uint64_t)u->limit);
        mix(&s, (uint64_t)bourse__day_traded(e, u));
        mix(&s, (uint64_t)u->open_qty);
        mix(&s, u->cash_ever | (uint64_t)u->blocked << 1);
        for (uint32_t p = u->positions; p != NIL; p = e->positions[p].next) {
            const position *pos = &e->positions[p];
            mix(&s, pos->symbol);
            mix(&s, (uint64_t)pos->avail);
            mix(&s, (uint64_t)pos->held);
            mix(&s, pos->ever);
        }
    }
    /* Resting orders in booking order: the order `close`, `block` and
     * `cancelall` will cancel them in. */
    for (uint32_t o = e->day_head; o != NIL; o = e->orders[o].dnext) {
        mix(&s, e->orders[o].user);
        mix_bytes(&s, e->orders[o].oid.s, BOURSE_NAME_LEN);
    }
    /* Taken ids: a sum of per-id hashes does not depend on table order. */
    uint64_t ids = 0;
    for (uint32_t i = 0; i <= e->order_by_id.mask; i++) {
        const keyslot *k = &e->order_by_id.slots[i];
        if (k->val) {
            hasher one = {k->owner};
            mix_bytes(&one, k->name.s, BOURSE_NAME_LEN);
            ids += one.h;
        }
    }
    mix(&s, ids);
    mix(&s, e->order_by_id.n);
    return s.h;
}
