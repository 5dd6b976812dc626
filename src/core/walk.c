/*
 * walk.c - every resting order, in the order the books hold them.
 *
 * For a shell that must rebuild its view of the books from an engine it did
 * not watch being built: market data after recovery from a journal.  Read
 * only; call it on the thread that owns the engine (or before any does).
 */
#include "internal.h"

void bourse_engine_each_order(const bourse_engine *e, bourse_event_fn fn, void *ctx)
{
    const bourse_cmd none = {0};
    for (uint32_t sym = 0; sym < e->nsymbols; sym++) {
        for (int side = BOURSE_BUY; side <= BOURSE_SELL; side++) {
            const book_side *s = &e->symbols[sym].side[side];
            side_iter it;
            for (uint32_t lv = bourse__side_first(s, &it); lv != NIL; lv = bourse__side_next(&it)) {
                const level *l = &e->levels[lv];
                for (uint32_t o = l->head; o != NIL; o = e->orders[o].next) {
                    const order *ord = &e->orders[o];
                    bourse_event ev = {.type = BOURSE_EV_ACCEPTED,
                                       .side = ord->side,
                                       .user = ord->user,
                                       .symbol = sym,
                                       .order = o + 1,
                                       .qty = ord->qty,
                                       .price = ord->price,
                                       .oid = ord->oid};
                    fn(ctx, &none, &ev);
                }
            }
        }
    }
}
