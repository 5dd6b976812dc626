/*
 * auth.c - the password-checking thread.
 *
 * argon2id is slow by design, so logins are checked here rather than on the
 * gateway thread: the gateway posts (connection, user, password) on one
 * ring and gets (connection, ok) back on another.  The password file is
 * re-read whenever it changes, so `bourse admin password` takes effect at
 * the next login without telling the server.
 */
#include "server/passwd.h"
#include "server/server.h"

#include <poll.h>
#include <sched.h>
#include <sodium.h>
#include <unistd.h>

void *srv_auth_main(void *arg)
{
    srv *s = arg;
    passwd_db *db = passwd_open(s->cfg->data_dir);
    if (!db)
        srv_log("cannot start password checks: every login will be refused");
    while (!atomic_load(&s->engine_done)) {
        struct pollfd p = {.fd = s->auth_fd, .events = POLLIN};
        if (poll(&p, 1, 500) > 0) {
            uint64_t v;
            if (read(s->auth_fd, &v, sizeof v) < 0) {
                /* cleared already */
            }
        }
        srv_auth a;
        while (ck_ring_dequeue_spsc_srv_auth(&s->auth_req.ring, s->auth_req.buf, &a)) {
            a.ok = db && passwd_check(db, a.user, a.password);
            sodium_memzero(a.password, sizeof a.password);
            while (!ck_ring_enqueue_spsc_srv_auth(&s->auth_res.ring, s->auth_res.buf, &a))
                sched_yield();
            srv_wake_gate(&s->gates[0]);
        }
    }
    passwd_close(db);
    return NULL;
}
