/*
 * work.c - the HTTP thread's worker pool (work.h).
 *
 * Two lists under one mutex: jobs to run (FIFO) and jobs done (reaped by
 * the loop's thread).  A worker sleeps on a condition variable while
 * there is nothing to run.  `held` counts jobs from submit to reap, so
 * the bound covers the done list too: a loop that is slow to reap cannot
 * let jobs pile up behind it.  The lock is taken a few times per job (a
 * job costs tens of milliseconds of argon2id or an fsync), never on the
 * engine's path.
 */
#include "http/work.h"

#include <pthread.h>
#include <stdlib.h>

enum { WORK_THREADS_MAX = 64 };

struct work_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    work_job *todo, *todo_tail, *done;
    unsigned held, queue, nthreads, stop;
    uint64_t refused;
    void (*wake)(void *ctx);
    void *ctx;
    pthread_t th[WORK_THREADS_MAX];
};

static void *worker(void *arg)
{
    work_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->todo && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop)
            break;
        work_job *j = p->todo;
        p->todo = j->next;
        if (!p->todo)
            p->todo_tail = NULL;
        pthread_mutex_unlock(&p->mu);
        j->run(j);
        pthread_mutex_lock(&p->mu);
        j->next = p->done;
        p->done = j;
        if (p->wake) {
            pthread_mutex_unlock(&p->mu);
            p->wake(p->ctx);
            pthread_mutex_lock(&p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

work_pool *work_new(unsigned threads, unsigned queue, void (*wake)(void *ctx), void *ctx)
{
    if (threads < 1)
        threads = 1;
    if (threads > WORK_THREADS_MAX)
        threads = WORK_THREADS_MAX;
    if (queue < threads)
        queue = threads;
    work_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->queue = queue;
    p->wake = wake;
    p->ctx = ctx;
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&p->th[i], NULL, worker, p) != 0)
            break;
        p->nthreads++;
    }
    if (!p->nthreads) {
        work_free(p);
        return NULL;
    }
    return p;
}

void work_free(work_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->th[i], NULL);
    /* every job left, run or not, is dropped: run = NULL tells its done to
     * answer nothing (the server is stopping), only to free it */
    for (work_job *j = p->done; j; j = j->next)
        j->run = NULL;
    work_reap(p);
    for (work_job *j = p->todo, *n; j; j = n) {
        n = j->next;
        j->run = NULL;
        j->done(j);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int work_submit(work_pool *p, work_job *j)
{
    pthread_mutex_lock(&p->mu);
    if (p->held >= p->queue || p->stop) {
        p->refused++;
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    p->held++;
    j->next = NULL;
    if (p->todo_tail)
        p->todo_tail->next = j;
    else
        p->todo = j;
    p->todo_tail = j;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

unsigned work_reap(work_pool *p)
{
    pthread_mutex_lock(&p->mu);
    work_job *d = p->done;
    p->done = NULL;
    pthread_mutex_unlock(&p->mu);
    /* oldest first: the list was pushed at its head */
    work_job *rev = NULL;
    unsigned n = 0;
    while (d) {
        work_job *nx = d->next;
        d->next = rev;
        rev = d;
        d = nx;
        n++;
    }
    while (rev) {
        work_job *nx = rev->next;
        rev->done(rev);
        rev = nx;
    }
    if (n) {
        pthread_mutex_lock(&p->mu);
        p->held -= n;
        pthread_mutex_unlock(&p->mu);
    }
    return n;
}

unsigned work_pending(work_pool *p)
{
    pthread_mutex_lock(&p->mu);
    unsigned n = p->held;
    pthread_mutex_unlock(&p->mu);
    return n;
}

uint64_t work_refused(work_pool *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t n = p->refused;
    pthread_mutex_unlock(&p->mu);
    return n;
}
