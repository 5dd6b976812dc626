/*
 * oids.c - the writer's memory of the orders it wrote that are still open:
 * (user, order id) -> the order's row id, its time in force and open
 * quantity.
 *
 * Why.  Every event names its order by (user, order id), and the row is
 * the newest non-rejected one with that pair.  Asking the database each
 * time (an index seek per trade side, fee, cancel and replace) was a
 * quarter of the follower's statements, and updating the row at each fill
 * most of the rest.  The orders an event can name are almost always open
 * ones, and every open order this follower made went through writer.c's
 * insert_order, which puts it here; so the answer is in memory, and the
 * database is asked only on a miss (an order written before this process
 * started, or a refused cancel of a finished order).
 *
 * Never stale.  An entry is the newest row of its pair, since every
 * non-rejected row is put here when made and replaces the entry.  The
 * entry also holds the row itself: writer.c changes it here and writes it
 * at the commit (one INSERT for an order placed and finished within a
 * batch, rather than an INSERT and its UPDATEs), so a row may be here and
 * not yet in the database.  An entry leaves once its order is finished
 * and its row written (at the commit); the removal names the row id, so
 * an order id given again (a replace to the same id, a later day's order)
 * stays.  So the table holds the open orders, as the engine does, and
 * those that finished in the transaction.
 *
 * Open addressing, linear probing, deletion by backward shift (no
 * tombstones); grown at half full.
 */
#include "report_int.h"

#include <stdlib.h>
#include <string.h>

struct roids {
    roid *t;
    size_t cap, n; /* cap a power of two */
};

roids *roids_new(void)
{
    roids *m = calloc(1, sizeof *m);
    if (m && !(m->t = calloc(m->cap = 1024, sizeof *m->t))) {
        free(m);
        return NULL;
    }
    return m;
}

void roids_free(roids *m)
{
    if (m)
        free(m->t);
    free(m);
}

static size_t hash(uint32_t user, const bourse_name *oid)
{
    uint64_t a, b, h = 0x9e3779b97f4a7c15ull ^ user;
    memcpy(&a, oid->s, 8);
    memcpy(&b, oid->s + 8, 8);
    h = (h ^ a) * 0xff51afd7ed558ccdull;
    h = (h ^ b ^ (h >> 29)) * 0xc4ceb9fe1a85ec53ull;
    return (size_t)(h ^ (h >> 32));
}

static size_t slot(const roids *m, uint32_t user, const bourse_name *oid)
{
    size_t i = hash(user, oid) & (m->cap - 1);
    while (m->t[i].id && !(m->t[i].user == user && !memcmp(&m->t[i].oid, oid, sizeof *oid)))
        i = (i + 1) & (m->cap - 1);
    return i;
}

roid *roids_get(roids *m, uint32_t user, const bourse_name *oid)
{
    roid *r = &m->t[slot(m, user, oid)];
    return r->id ? r : NULL;
}

roid *roids_put(roids *m, uint32_t user, const bourse_name *oid, int64_t id)
{
    if (2 * (m->n + 1) > m->cap) {
        roid *old = m->t;
        size_t cap = m->cap;
        roid *t = calloc(cap * 2, sizeof *t);
        if (!t)
            return NULL;
        m->t = t;
        m->cap = cap * 2;
        for (size_t i = 0; i < cap; i++)
            if (old[i].id)
                m->t[slot(m, old[i].user, &old[i].oid)] = old[i];
        free(old);
    }
    roid *r = &m->t[slot(m, user, oid)];
    if (!r->id)
        m->n++;
    *r = (roid){.user = user, .oid = *oid, .id = id};
    return r;
}

void roids_del(roids *m, uint32_t user, const bourse_name *oid, int64_t id)
{
    size_t i = slot(m, user, oid);
    if (m->t[i].id != id)
        return;
    m->t[i].id = 0;
    m->n--;
    /* Backward shift: move later entries of the run into the hole when
     * their home is not between the hole and them. */
    for (size_t j = (i + 1) & (m->cap - 1); m->t[j].id; j = (j + 1) & (m->cap - 1)) {
        size_t home = hash(m->t[j].user, &m->t[j].oid) & (m->cap - 1);
        if (((j - home) & (m->cap - 1)) >= ((j - i) & (m->cap - 1))) {
            m->t[i] = m->t[j];
            m->t[j].id = 0;
            i = j;
        }
    }
}

size_t roids_count(const roids *m)
{
    return m->n;
}
