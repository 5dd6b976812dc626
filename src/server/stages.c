/*
 * stages.c - the stage histograms (stages.h): one set written by the
 * engine thread, one per gateway thread, the journal's sync timer beside
 * them; read and merged by whoever asks (the admin socket's `stages`).
 */
#include "server/stages.h"
#include "journal/journal.h"
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which thread writes each stage: the engine's, the gateways' (one
 * histogram per gateway), or the journal's syncer. */
enum { BY_ENGINE, BY_GATE, BY_JOURNAL };

static const struct {
    const char *name, *help;
    int by;
} stage_def[STAGE_N] = {
    [STAGE_TAKEN] = {"taken", "gateway read -> the engine took it off the ring", BY_ENGINE},
    [STAGE_APPLIED] = {"applied", "gateway read -> sequenced, journaled, applied, reports queued", BY_ENGINE},
    [STAGE_RELEASED] = {"released", "gateway read -> its report durable and taken by the gateway", BY_GATE},
    [STAGE_WRITTEN] = {"written", "gateway read -> its report written to the socket", BY_GATE},
    [STAGE_ENGINE] = {"engine", "the engine's batch: taken -> applied", BY_ENGINE},
    [STAGE_WRITE] = {"write", "the gateway's turn: released -> written", BY_GATE},
    [STAGE_SYNC] = {"sync", "one fdatasync of the journal by its syncer (durability batch)", BY_JOURNAL},
};

typedef struct srv_stages {
    lathist engine[STAGE_N];
    lathist gate[SRV_MAX_GATES][STAGE_N];
} srv_stages;

int stages_init(srv *s)
{
    s->stages = calloc(1, sizeof *s->stages);
    return s->stages ? 0 : -1;
}

void stages_free(srv *s)
{
    free(s->stages);
    s->stages = NULL;
}

void stages_engine_batch(srv *s, uint64_t since_sum, int64_t taken, int64_t done, uint64_t n)
{
    if (!s->stages || !n)
        return;
    lathist *h = s->stages->engine;
    uint64_t since = since_sum / n, engine = done > taken ? (uint64_t)(done - taken) : 0;
    lathist_add(&h[STAGE_TAKEN], since, n);
    lathist_add(&h[STAGE_APPLIED], since + engine, n);
    lathist_add(&h[STAGE_ENGINE], engine, n);
}

void stages_gate_turn(srv *s, uint32_t gate, uint64_t since_sum, int64_t turn, int64_t written, uint64_t n)
{
    if (!s->stages || !n || gate >= SRV_MAX_GATES)
        return;
    lathist *h = s->stages->gate[gate];
    uint64_t since_read = since_sum / n;
    uint64_t write = written > turn ? (uint64_t)(written - turn) : 0;
    lathist_add(&h[STAGE_RELEASED], since_read, n);
    lathist_add(&h[STAGE_WRITTEN], since_read + write, n);
    lathist_add(&h[STAGE_WRITE], write, n);
}

const char *stages_name(int stage)
{
    return stage >= 0 && stage < STAGE_N ? stage_def[stage].name : "";
}

const char *stages_help(int stage)
{
    return stage >= 0 && stage < STAGE_N ? stage_def[stage].help : "";
}

static lathist *journal_hist(const srv *s)
{
    return s->journal && !s->cl_state ? journal_sync_lathist(s->journal) : NULL;
}

void stages_read(const srv *s, int stage, lathist *out)
{
    memset(out, 0, sizeof *out);
    if (!s->stages || stage < 0 || stage >= STAGE_N)
        return;
    switch (stage_def[stage].by) {
    case BY_ENGINE: lathist_merge(out, &s->stages->engine[stage]); break;
    case BY_GATE:
        for (uint32_t i = 0; i < s->ngates && i < SRV_MAX_GATES; i++)
            lathist_merge(out, &s->stages->gate[i][stage]);
        break;
    default: {
        lathist *j = journal_hist(s);
        if (j)
            lathist_merge(out, j);
    }
    }
}

void stages_reset(srv *s)
{
    if (!s->stages)
        return;
    for (int k = 0; k < STAGE_N; k++) {
        lathist_reset_ask(&s->stages->engine[k]);
        for (uint32_t i = 0; i < SRV_MAX_GATES; i++)
            lathist_reset_ask(&s->stages->gate[i][k]);
    }
    lathist *j = journal_hist(s);
    if (j)
        lathist_reset_ask(j);
}

size_t stages_text(const srv *s, char *buf, size_t cap)
{
    static _Thread_local lathist h; /* 9 KiB: not on a gateway's stack */
    size_t off = 0;
    for (int k = 0; k < STAGE_N && off < cap; k++) {
        stages_read(s, k, &h);
        int w = snprintf(
            buf + off, cap - off, "STAGE %s %llu %llu %llu %llu %llu %llu %llu\n", stages_name(k),
            (unsigned long long)h.count, (unsigned long long)(h.count ? h.sum / h.count : 0),
            (unsigned long long)lathist_percentile(&h, 50), (unsigned long long)lathist_percentile(&h, 90),
            (unsigned long long)lathist_percentile(&h, 99), (unsigned long long)lathist_percentile(&h, 99.9),
            (unsigned long long)h.max);
        if (w < 0 || (size_t)w >= cap - off)
            break;
        off += (size_t)w;
    }
    return off;
}
