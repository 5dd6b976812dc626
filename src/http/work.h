/*
 * work.h - a small pool of threads for the HTTP thread's slow work:
 * argon2id (a sign-up's hash, a login's check) and a document's write and
 * fsync.  The event loop that serves every client must never wait tens of
 * milliseconds for one of them, so a handler hands the work here and
 * answers later.
 *
 * A job is two functions: run, on a worker thread (it must touch nothing
 * of the loop: it reads and writes only its own job), and done, back on
 * the loop's thread, which answers the request (through its ticket: the
 * client may have gone meanwhile).  The pool takes at most `queue` jobs at
 * once (waiting or running); past that work_submit refuses and the caller
 * answers 503 at once, so a flood of logins is refused, never queued
 * without bound.  The loop is told that jobs are done through `wake`
 * (lws_cancel_service), and collects them with work_reap.
 *
 * Pure threads and a mutex; no libwebsockets here, so tests/unit/test_http.c
 * drives it directly.
 */
#ifndef BOURSE_HTTP_WORK_H
#define BOURSE_HTTP_WORK_H

#include <stdint.h>

typedef struct work_pool work_pool;
typedef struct work_job work_job;
struct work_job {
    void (*run)(work_job *j);  /* a worker thread */
    void (*done)(work_job *j); /* the loop's thread (work_reap); frees the job */
    work_job *next;
};

/* threads: workers (1-64); queue: jobs at most at once (>= threads);
 * wake(ctx) is called from a worker once a job is done. */
work_pool *work_new(unsigned threads, unsigned queue, void (*wake)(void *ctx), void *ctx);
/* Stops the workers (waiting for the jobs they run); then every job left
 * is handed to its done with run set to NULL: drop it, answer nothing. */
void work_free(work_pool *p);
/* 0, or -1 when the pool holds `queue` jobs already (the caller answers
 * 503 and keeps the job). */
int work_submit(work_pool *p, work_job *j);
/* On the loop's thread: calls done of every finished job; their count. */
unsigned work_reap(work_pool *p);
/* Jobs waiting or running (not yet reaped), and jobs refused so far. */
unsigned work_pending(work_pool *p);
uint64_t work_refused(work_pool *p);

#endif
