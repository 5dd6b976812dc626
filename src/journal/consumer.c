/*
 * consumer.c - see consumer.h: the set the engine thread publishes into.
 */
#include "consumer.h"

#include <stdlib.h>

int consumers_add(consumer_set *set, const consumer_ops *ops, void *ctx)
{
    const consumer_ops **o = realloc(set->ops, (size_t)(set->n + 1) * sizeof *o);
    if (!o)
        return -1;
    set->ops = o;
    void **c = realloc(set->ctx, (size_t)(set->n + 1) * sizeof *c);
    if (!c)
        return -1;
    set->ctx = c;
    set->ops[set->n] = ops;
    set->ctx[set->n++] = ctx;
    return 0;
}

void consumers_free(consumer_set *set)
{
    free(set->ops);
    free(set->ctx);
    *set = (consumer_set){0};
}

uint64_t consumers_position(const consumer_set *set)
{
    uint64_t low = UINT64_MAX;
    for (int i = 0; i < set->n; i++) {
        if (!set->ops[i]->position)
            continue;
        uint64_t p = set->ops[i]->position(set->ctx[i]);
        if (p < low)
            low = p;
    }
    return low;
}
