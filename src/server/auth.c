/*
 * auth.c - password checks: one dispatching thread and a few checking
 * threads.
 *
 * argon2id is slow by design (tens to hundreds of milliseconds), so logins
 * are checked off the gateway thread: gateway 0 posts (connection, user,
 * password, address) on one ring and gets (connection, verdict) back on
 * another.  The password file is re-read whenever it changes, so `bourse
 * admin password` takes effect at the next login without telling the server.
 *
 * The dispatcher (srv_auth_main) never runs argon2id itself, so what it
 * answers from memory no flood can hold up:
 *   - a user whose right password was seen before is known by a keyed
 *     BLAKE2b verifier (passwd.c): the right password is answered at once;
 *   - every failure, wrong password or unknown user alike, is answered
 *     login_fail_ms (or 1.5 times the measured argon2id time, if longer)
 *     after it arrived, so timing tells neither which names exist nor
 *     which were seen before, and a verifier cannot be guessed at memory
 *     speed: a guess costs a connection its slot of the address's
 *     logins_per_ip for that long;
 *   - guard.c counts failures per name and per address: a throttle, then
 *     a lock, lifted after login_lock_s or by `bourse admin --data DIR
 *     unlock NAME`, which appends NAME to DIR/unlocks (read here);
 *   - only a first login of a known user (or one after a password change)
 *     needs argon2id: it goes to auth_threads checking threads, which take
 *     first the queued check whose address has the fewest checks running,
 *     then the fewest failed logins, then the most good ones, then was
 *     served longest ago (pick): flooding addresses cannot take every
 *     thread, nor make a well-behaved address wait behind each of them.
 * A check whose connection has closed (srv_auth_live) is dropped without
 * being run: closing and reconnecting cannot queue up work.
 */
#include "server/guard.h"
#include "server/passwd.h"
#include "server/server.h"

#include <poll.h>
#include <sched.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { JOBS = 4096, MAX_WORKERS = 64 };
enum { J_FREE = 0, J_QUEUED, J_RUNNING, J_DONE, J_DUE };

typedef struct job {
    int state;
    srv_auth a;
    int64_t arrived, due;
    char hash[PASSWD_HASH_MAX];
    int ok;
} job;

typedef struct auth {
    srv *s;
    passwd_db *db;
    guard *gd;
    pthread_mutex_t mu; /* jobs' states, stop, argon_ns */
    pthread_cond_t cv;
    job *jobs;
    uint32_t *todo; /* sweep's list of jobs, and their new states */
    uint8_t *todo_state;
    int stop;
    int64_t argon_ns; /* a moving average of one argon2id check */
    int64_t fail_ns;  /* fail_delay() as of the last sweep */
    pthread_t workers[MAX_WORKERS];
    struct wk {
        struct auth *x;
        uint32_t ip; /* address of the check it runs; 0 = idle */
    } wk[MAX_WORKERS];
    uint32_t nworkers;
    /* recent addresses, for the order of checks (pick); under mu */
    struct addr_stat {
        uint32_t ip;
        int64_t seen;   /* last touched: the least recent is replaced */
        int64_t served; /* when a check of it last started */
        uint32_t fails, oks;
    } addrs[256];
    uint64_t checked, dropped, from_memory; /* argon2id checks run; dropped unrun; answered without */
    char unlocks[SRV_PATH_MAX + 16];
    ino_t unlocks_ino;
    off_t unlocks_off;
} auth;

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

const char *srv_auth_why(int ok)
{
    switch (ok) {
    case AUTH_USER_LOCKED:
        return "user locked after too many failed logins (`bourse admin --data DIR unlock USER` lifts it)";
    case AUTH_IP_LOCKED:
        return "address locked after too many failed logins (`bourse admin --data DIR unlock A.B.C.D` lifts "
               "it)";
    case AUTH_BUSY: return "too many logins being checked";
    default: return "bad user or password";
    }
}

static int live(const srv *s, const srv_auth *a)
{
    return !s->auth_live || a->conn >= s->gates[SRV_ACCEPTOR].capacity ||
           atomic_load_explicit(&s->auth_live[a->conn], memory_order_relaxed) == a->gen + 1;
}

/* ---- the checking threads ---------------------------------------------- */

/* The address's entry, made (replacing the least recent) when create. */
static struct addr_stat *addr_stat(auth *x, uint32_t ip, int create)
{
    struct addr_stat *oldest = &x->addrs[0];
    for (uint32_t i = 0; i < sizeof x->addrs / sizeof *x->addrs; i++) {
        if (x->addrs[i].ip == ip)
            return &x->addrs[i];
        if (x->addrs[i].seen < oldest->seen)
            oldest = &x->addrs[i];
    }
    if (!create)
        return NULL;
    *oldest = (struct addr_stat){.ip = ip};
    return oldest;
}

/* A login of ip was answered (ok or not).  Under mu. */
static void addr_note(auth *x, uint32_t ip, int ok, int64_t now)
{
    struct addr_stat *a = addr_stat(x, ip ? ip : 1, 1);
    a->seen = now;
    if (ok)
        a->oks++;
    else
        a->fails++;
}

static void note(auth *x, uint32_t ip, int ok)
{
    pthread_mutex_lock(&x->mu);
    addr_note(x, ip, ok, now_ns());
    pthread_mutex_unlock(&x->mu);
}

/* The queued job to run next: its address has the fewest checks running,
 * then the fewest failed logins, then the most good ones (an address that
 * has done nothing wrong goes ahead of one that floods, even one the flood
 * has not yet shown), then was served longest ago (round robin), then the
 * oldest.  Under mu. */
static job *pick(auth *x)
{
    job *best = NULL;
    uint32_t best_running = 0;
    struct addr_stat none = {0}, *bs = &none;
    for (uint32_t i = 0; i < JOBS; i++) {
        job *j = &x->jobs[i];
        if (j->state != J_QUEUED)
            continue;
        uint32_t ip = j->a.ip ? j->a.ip : 1, running = 0;
        for (uint32_t k = 0; k < x->nworkers; k++)
            running += x->wk[k].ip == ip;
        struct addr_stat *as = addr_stat(x, ip, 0);
        if (!as)
            as = &none;
        int better =
            !best || running < best_running ||
            (running == best_running &&
             (as->fails < bs->fails ||
              (as->fails == bs->fails &&
               (as->oks > bs->oks ||
                (as->oks == bs->oks &&
                 (as->served < bs->served || (as->served == bs->served && j->arrived < best->arrived)))))));
        if (better) {
            best = j;
            best_running = running;
            bs = as;
        }
    }
    return best;
}

static void note_time(auth *x, int64_t took)
{
    x->argon_ns = x->argon_ns ? (x->argon_ns * 7 + took) / 8 : took;
}

static void *worker_main(void *arg)
{
    struct wk *me = arg;
    auth *x = me->x;
    pthread_mutex_lock(&x->mu);
    for (;;) {
        job *j = NULL;
        while (!x->stop && !(j = pick(x)))
            pthread_cond_wait(&x->cv, &x->mu);
        if (x->stop)
            break;
        j->state = J_RUNNING;
        me->ip = j->a.ip ? j->a.ip : 1;
        struct addr_stat *as = addr_stat(x, me->ip, 1);
        as->seen = as->served = now_ns();
        pthread_mutex_unlock(&x->mu);
        int ok = -1; /* -1: dropped, its connection is gone */
        int64_t t0 = now_ns(), took = 0;
        if (live(x->s, &j->a)) {
            ok = passwd_verify_hash(j->hash, j->a.password);
            took = now_ns() - t0;
        }
        pthread_mutex_lock(&x->mu);
        if (took)
            note_time(x, took);
        j->ok = ok;
        j->state = J_DONE;
        me->ip = 0;
        uint64_t one = 1;
        if (write(x->s->auth_fd, &one, sizeof one) < 0) {
            /* the dispatcher polls anyway */
        }
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

/* ---- the dispatcher ----------------------------------------------------- */

static void reply(auth *x, srv_auth *a, int ok)
{
    srv *s = x->s;
    a->ok = ok;
    sodium_memzero(a->password, sizeof a->password);
    while (!spsc_put(&s->auth_res, a, sizeof *a))
        sched_yield();
    srv_wake_gate(&s->gates[SRV_ACCEPTOR]);
}

static int64_t fail_delay(auth *x)
{
    pthread_mutex_lock(&x->mu);
    int64_t d = x->argon_ns * 3 / 2, floor = (int64_t)x->s->cfg->login_fail_ms * 1000000;
    pthread_mutex_unlock(&x->mu);
    /* answered before the gateway gives up on the login */
    int64_t most = (int64_t)x->s->cfg->login_timeout_ms * 1000000 / 2;
    d = d > floor ? d : floor;
    return d < most ? d : most;
}

static job *free_job(auth *x)
{
    for (uint32_t i = 0; i < JOBS; i++)
        if (x->jobs[i].state == J_FREE)
            return &x->jobs[i];
    return NULL;
}

/* A failed login (verdict ok), answered at arrived + delay (the usual
 * delay and the throttle).  Under mu. */
static void fail_later(job *j, int ok, int64_t delay)
{
    j->ok = ok;
    j->due = j->arrived + delay;
    sodium_memzero(j->a.password, sizeof j->a.password);
    j->state = J_DUE;
}

/* The usual delay and the throttle's, answered before the gateway's login
 * timeout closes the connection (so the client hears why). */
static int64_t with_throttle(auth *x, int64_t extra)
{
    int64_t d = fail_delay(x) + extra, most = (int64_t)x->s->cfg->login_timeout_ms * 900000;
    return d < most ? d : most;
}

static void fail(auth *x, srv_auth *a, int64_t arrived, int ok, int64_t extra)
{
    int64_t delay = with_throttle(x, extra); /* before mu: fail_delay takes it */
    pthread_mutex_lock(&x->mu);
    job *j = free_job(x);
    if (j) {
        j->a = *a;
        j->arrived = arrived;
        fail_later(j, ok, delay);
    }
    pthread_mutex_unlock(&x->mu);
    if (!j)
        reply(x, a, ok); /* swamped: answered now rather than never */
    sodium_memzero(a->password, sizeof a->password);
}

static void on_request(auth *x, srv_auth *a)
{
    int64_t now = now_ns();
    if (!live(x->s, a)) {
        sodium_memzero(a->password, sizeof a->password);
        x->dropped++;
        return;
    }
    int v = guard_verdict(x->gd, a->user, a->ip, now);
    if (v != GUARD_OPEN) {
        fail(x, a, now, v == GUARD_USER_LOCKED ? AUTH_USER_LOCKED : AUTH_IP_LOCKED, 0);
        return;
    }
    char hash[PASSWD_HASH_MAX];
    int r = x->db ? passwd_lookup(x->db, a->user, a->password, hash) : PASSWD_NO_USER;
    /* A signed-up account's hash comes from the journal (accounts_srv.c):
     * checked by argon2id on a checking thread, every time. */
    if (r == PASSWD_NO_USER && srv_acct_hash_get(x->s, a->user, hash, sizeof hash))
        r = PASSWD_SLOW;
    if (r == PASSWD_OK) {
        guard_succeeded(x->gd, a->user);
        x->from_memory++;
        note(x, a->ip, 1);
        reply(x, a, AUTH_OK);
        return;
    }
    if (r != PASSWD_SLOW) {
        x->from_memory++;
        note(x, a->ip, 0);
        fail(x, a, now, AUTH_BAD, guard_failed(x->gd, a->user, a->ip, now));
        return;
    }
    pthread_mutex_lock(&x->mu);
    job *j = free_job(x);
    if (j) {
        j->a = *a;
        j->arrived = now;
        memcpy(j->hash, hash, sizeof hash);
        j->state = J_QUEUED;
        pthread_cond_signal(&x->cv);
    }
    pthread_mutex_unlock(&x->mu);
    sodium_memzero(a->password, sizeof a->password);
    if (!j)
        reply(x, a, AUTH_BUSY);
}

/* Checks done, answers due, answers no longer wanted; returns the time to
 * the next answer due (ms, for poll).  The table is scanned under mu once;
 * jobs DONE or DUE belong to this thread (workers only take QUEUED ones),
 * and their new states are set under mu again at the end. */
static int sweep(auth *x)
{
    int64_t now = now_ns(), next = INT64_MAX;
    uint32_t n = 0;
    pthread_mutex_lock(&x->mu);
    for (uint32_t i = 0; i < JOBS; i++) {
        job *j = &x->jobs[i];
        if (j->state == J_QUEUED) {
            /* a name or address locked meanwhile: its queued checks are not run */
            int v = guard_verdict(x->gd, j->a.user, j->a.ip, now);
            if (v != GUARD_OPEN)
                fail_later(j, v == GUARD_USER_LOCKED ? AUTH_USER_LOCKED : AUTH_IP_LOCKED, x->fail_ns);
        }
        if (j->state == J_DONE || j->state == J_DUE)
            x->todo[n++] = i;
    }
    pthread_mutex_unlock(&x->mu);
    for (uint32_t k = 0; k < n; k++) {
        job *j = &x->jobs[x->todo[k]];
        int st = J_FREE;
        if (j->state == J_DONE) {
            if (j->ok < 0) {
                x->dropped++;
            } else if (j->ok) {
                if (x->db)
                    passwd_remember(x->db, j->a.user, j->hash, j->a.password);
                guard_succeeded(x->gd, j->a.user);
                x->checked++;
                note(x, j->a.ip, 1);
                reply(x, &j->a, AUTH_OK);
            } else {
                x->checked++;
                note(x, j->a.ip, 0);
                j->ok = AUTH_BAD;
                j->due = j->arrived + with_throttle(x, guard_failed(x->gd, j->a.user, j->a.ip, j->arrived));
                sodium_memzero(j->a.password, sizeof j->a.password);
                st = J_DUE;
            }
        }
        if (st == J_DUE || j->state == J_DUE) {
            if (!live(x->s, &j->a)) {
                st = J_FREE;
            } else if (j->due <= now) {
                reply(x, &j->a, j->ok);
                st = J_FREE;
            } else {
                st = J_DUE;
                next = j->due < next ? j->due : next;
            }
        }
        if (st == J_FREE) {
            sodium_memzero(j->a.password, sizeof j->a.password);
            sodium_memzero(j->hash, sizeof j->hash);
        }
        x->todo_state[k] = (uint8_t)st;
    }
    pthread_mutex_lock(&x->mu);
    for (uint32_t k = 0; k < n; k++)
        x->jobs[x->todo[k]].state = x->todo_state[k];
    pthread_mutex_unlock(&x->mu);
    if (next == INT64_MAX)
        return 500;
    int64_t ms = (next - now) / 1000000 + 1;
    return ms < 500 ? (int)ms : 500;
}

/* DIR/unlocks: names appended by `bourse admin unlock` since we last looked. */
static void read_unlocks(auth *x)
{
    struct stat st;
    if (stat(x->unlocks, &st) != 0)
        return;
    if (st.st_ino != x->unlocks_ino || st.st_size < x->unlocks_off)
        x->unlocks_off = 0;
    x->unlocks_ino = st.st_ino;
    if (st.st_size == x->unlocks_off)
        return;
    FILE *f = fopen(x->unlocks, "r");
    if (!f || fseeko(f, x->unlocks_off, SEEK_SET) != 0) {
        if (f)
            fclose(f);
        return;
    }
    char line[128];
    while (fgets(line, sizeof line, f)) {
        if (!strchr(line, '\n'))
            break; /* the rest of it is still being written */
        x->unlocks_off += (off_t)strlen(line);
        line[strcspn(line, "\r\n")] = 0;
        if (line[0])
            srv_log("unlock %s: %s", line,
                    guard_unlock(x->gd, line) ? "failed logins forgotten" : "nothing was counted");
    }
    fclose(f);
}

/* The first check of the run times argon2id, so the delay of failures
 * (unknown users included) matches a known user's from the start. */
static void calibrate(auth *x)
{
    char hash[PASSWD_HASH_MAX];
    if (!x->db || !passwd_any_hash(x->db, hash))
        return;
    unsigned char r[16];
    char guess[33];
    randombytes_buf(r, sizeof r);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(guess + 2 * i, 3, "%02x", r[i]);
    int64_t t0 = now_ns();
    passwd_verify_hash(hash, guess);
    note_time(x, now_ns() - t0);
}

void *srv_auth_main(void *arg)
{
    srv *s = arg;
    auth x = {.s = s};
    const srv_config *cfg = s->cfg;
    guard_config gc = {.throttle_after = cfg->login_throttle_after,
                       .lock_after = cfg->login_lock_after,
                       .lock_after_ip = cfg->login_lock_after_ip,
                       .lock_s = cfg->login_lock_s};
    x.db = passwd_open(cfg->data_dir);
    x.gd = guard_new(&gc);
    x.jobs = calloc(JOBS, sizeof *x.jobs);
    x.todo = calloc(JOBS, sizeof *x.todo);
    x.todo_state = calloc(JOBS, 1);
    pthread_mutex_init(&x.mu, NULL);
    pthread_cond_init(&x.cv, NULL);
    if (!x.db || !x.gd || !x.jobs || !x.todo || !x.todo_state) {
        srv_log("cannot start password checks: every login will be refused");
        passwd_close(x.db);
        x.db = NULL;
    }
    snprintf(x.unlocks, sizeof x.unlocks, "%s/unlocks", cfg->data_dir);
    struct stat st;
    if (stat(x.unlocks, &st) == 0) { /* older unlocks were for an earlier run */
        x.unlocks_ino = st.st_ino;
        x.unlocks_off = st.st_size;
    }
    uint32_t want = cfg->auth_threads ? cfg->auth_threads : 1;
    for (; x.db && x.nworkers < want && x.nworkers < MAX_WORKERS; x.nworkers++) {
        x.wk[x.nworkers].x = &x;
        if (pthread_create(&x.workers[x.nworkers], NULL, worker_main, &x.wk[x.nworkers]) != 0)
            break;
        pthread_setname_np(x.workers[x.nworkers], "bourse-auth");
    }
    if (x.db && !x.nworkers) {
        srv_log("cannot start password checks: every login will be refused");
        passwd_close(x.db);
        x.db = NULL;
    }
    calibrate(&x);
    int wait_ms = 500;
    while (!atomic_load(&s->engine_done)) {
        x.fail_ns = fail_delay(&x);
        struct pollfd p = {.fd = s->auth_fd, .events = POLLIN};
        if (poll(&p, 1, wait_ms) > 0) {
            uint64_t v;
            if (read(s->auth_fd, &v, sizeof v) < 0) {
                /* cleared already */
            }
        }
        if (x.gd)
            read_unlocks(&x);
        srv_auth a;
        while (spsc_get(&s->auth_req, &a, sizeof a))
            on_request(&x, &a);
        wait_ms = x.db ? sweep(&x) : 500;
    }
    pthread_mutex_lock(&x.mu);
    x.stop = 1;
    pthread_cond_broadcast(&x.cv);
    pthread_mutex_unlock(&x.mu);
    for (uint32_t i = 0; i < x.nworkers; i++)
        pthread_join(x.workers[i], NULL);
    srv_log(
        "logins: %llu password checks run, %llu dropped unrun (their connection had closed), %llu answered "
        "from memory",
        (unsigned long long)x.checked, (unsigned long long)x.dropped, (unsigned long long)x.from_memory);
    if (x.jobs)
        sodium_memzero(x.jobs, JOBS * sizeof *x.jobs);
    free(x.jobs);
    free(x.todo);
    free(x.todo_state);
    guard_free(x.gd);
    passwd_close(x.db);
    pthread_mutex_destroy(&x.mu);
    pthread_cond_destroy(&x.cv);
    return NULL;
}
