/*
 * follow.h - a subscriber's side of the binary feed: apply each message to a
 * book (model.h), first those of the snapshot, then the live increments.
 * The publisher's model and a follower's are built by the same functions, so
 * once a follower has applied message N its book is the publisher's after N.
 */
#ifndef BOURSE_FEED_FOLLOW_H
#define BOURSE_FEED_FOLLOW_H

#include "feed/itch.h"
#include "feed/model.h"

typedef struct follower {
    fbook book;
    int open;        /* the market's session */
    int live;        /* past the snapshot */
    uint64_t seq;    /* last sequenced message applied */
    uint64_t errors; /* messages that did not fit the book */
} follower;

int follow_init(follower *f, uint32_t candle_depth);
void follow_free(follower *f);

/* Apply one message (snapshot or sequenced).  Returns 0, or -1 when it does
 * not fit the book (unknown reference, bad symbol...): a gap or a bug. */
int follow_apply(follower *f, const itch_msg *m);

#endif
