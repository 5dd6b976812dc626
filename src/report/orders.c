/*
 * orders.c - the orders' rows, for the writer (writer.c).
 *
 * An order is a row from its ACCEPTED (or its REJECTED: a refused order is
 * part of the audit trail) with every attribute of its command; TRADE,
 * CANCELED and REPLACED change it.  Events name orders by (user, order
 * id), and ids may be reused on a later trading day (BOURSE_DAY_IDS), so
 * an event's order is the newest non-rejected row with that pair.  Open
 * orders and those changed in the transaction are kept in the roids
 * (oids.c says why) with their rows, which are written at the commit: one
 * INSERT for an order placed and finished within a batch, one UPDATE for
 * an older one.  An order not there (written before this process
 * started) is found and changed in the database.
 */
#include "writer_int.h"

#include <string.h>

int64_t rw_find_order(rwriter *w, uint32_t user, const bourse_name *oid)
{
    if (user >= BOURSE_CASH)
        return 0;
    const roid *r = roids_get(w->oids, user, oid);
    if (r)
        return r->id;
    rval p[2] = {rv_int(user), rw_name(oid->s, BOURSE_NAME_LEN)};
    int64_t id = 0;
    rw_run(w, S_FIND, p, 2, &id, NULL, 0);
    return id;
}

/* An order's row: to the orders buffer when new, an UPDATE when the
 * database has it. */
static void write_order(rwriter *w, roid *r)
{
    if (!r->stored) {
        rval p[18] = {rv_int(r->id),
                      rv_int(r->user),
                      rw_name(r->oid.s, BOURSE_NAME_LEN),
                      r->symbol < BOURSE_CASH ? rv_int(r->symbol) : (rval){0},
                      rv_text(rw_side_name(r->side), -1),
                      rv_text(r->tif, -1),
                      rv_int(r->price),
                      rv_int(r->qty),
                      rv_int(r->seq),
                      rv_int(r->ts),
                      rv_text(r->status, -1),
                      r->reason ? rv_text(r->reason, -1) : (rval){0},
                      rv_int(r->open),
                      rv_int(r->filled),
                      rv_opt(r->replaces),
                      rv_opt(r->replaced_by),
                      rv_int(r->last_seq),
                      rv_int(r->last_ts)};
        rw_add(w, S_ORDER, p);
        r->stored = 1;
    } else {
        rval p[8] = {
            rv_int(r->id),       rv_text(r->status, -1), r->reason ? rv_text(r->reason, -1) : (rval){0},
            rv_int(r->open),     rv_int(r->filled),      rv_opt(r->replaced_by),
            rv_int(r->last_seq), rv_int(r->last_ts)};
        rw_run(w, S_ORDER_SET, p, 8, NULL, NULL, 0);
    }
    r->dirty = 0;
}

/* r changed: its row is written at the commit. */
void rw_changed(rwriter *w, roid *r)
{
    r->last_seq = (int64_t)w->cmd.seq;
    r->last_ts = w->cmd.ts_ns;
    if (r->dirty)
        return;
    if (rw_grow((void **)&w->done, &w->capdone, w->ndone + 1, sizeof *w->done) != 0) {
        rw_fail(w, "out of memory");
        return;
    }
    w->done[w->ndone++] = (done_order){.user = r->user, .oid = r->oid, .id = r->id};
    r->dirty = 1;
}

/* A new row.  An open order is kept in the roids until its row is written
 * (at the commit) and, while open, after; a refused one goes to the
 * buffer (no event names it again). */
int64_t rw_insert_order(rwriter *w, uint32_t user, const bourse_name *oid, uint32_t symbol, int side,
                        const char *tif, int64_t price, int64_t qty, const char *status, const char *reason,
                        int64_t open, int64_t replaces)
{
    roid o = {.user = user,
              .oid = *oid,
              .id = w->next_order,
              .open = open,
              .price = price,
              .qty = qty,
              .seq = (int64_t)w->cmd.seq,
              .ts = w->cmd.ts_ns,
              .last_seq = (int64_t)w->cmd.seq,
              .last_ts = w->cmd.ts_ns,
              .replaces = replaces,
              .symbol = symbol,
              .side = side,
              .status = status,
              .reason = reason};
    snprintf(o.tif, sizeof o.tif, "%s", tif);
    if (!strcmp(status, "rejected")) {
        write_order(w, &o);
        return w->next_order++;
    }
    /* An earlier row of the pair (finished: the engine takes an id again
     * only then) still waiting for the commit is written before its slot
     * is taken. */
    roid *old = roids_get(w->oids, user, oid);
    if (old && old->dirty)
        write_order(w, old);
    roid *r = roids_put(w->oids, user, oid, o.id);
    if (!r) {
        rw_fail(w, "out of memory");
        return w->next_order++;
    }
    *r = o;
    rw_changed(w, r);
    return w->next_order++;
}

/* The roid of row id, or NULL (an order this process did not write, or
 * one already gone). */
roid *rw_mine(rwriter *w, uint32_t user, const bourse_name *oid, int64_t id)
{
    roid *r = id ? roids_get(w->oids, user, oid) : NULL;
    return r && r->id == id ? r : NULL;
}

void rw_update(rwriter *w, int s, int64_t order, int64_t a, const char *text)
{
    if (!order)
        return;
    rval p[4] = {rv_int(order), text ? rv_text(text, -1) : rv_int(a), rv_int((int64_t)w->cmd.seq),
                 rv_int(w->cmd.ts_ns)};
    rw_run(w, s, p, 4, NULL, NULL, 0);
}

/* A fill of qty on an order: in its roid, or its row. */
void rw_fill(rwriter *w, uint32_t user, const bourse_name *oid, int64_t id, int64_t qty)
{
    roid *r = rw_mine(w, user, oid, id);
    if (!r) {
        rw_update(w, S_FILL, id, qty, NULL);
        return;
    }
    r->filled += qty;
    if (r->open - qty <= 0)
        r->status = "filled";
    r->open -= qty;
    rw_changed(w, r);
}

/* The orders changed in this transaction, into their rows; the finished
 * ones leave the roids (their rows are the newest of their pairs now). */
void rw_write_orders(rwriter *w)
{
    for (int i = 0; i < w->ndone && !w->failed; i++) {
        done_order *d = &w->done[i];
        roid *r = rw_mine(w, d->user, &d->oid, d->id);
        if (!r)
            continue;
        if (r->dirty)
            write_order(w, r);
        if (strcmp(r->status, "open") != 0)
            roids_del(w->oids, d->user, &d->oid, d->id);
    }
    w->ndone = 0;
}
