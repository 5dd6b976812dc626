/*
 * guard.h - failed logins, counted per user name and per address, and the
 * throttle and lock they lead to (see guard.c).  Used by the auth thread
 * only: no locking.
 */
#ifndef BOURSE_SERVER_GUARD_H
#define BOURSE_SERVER_GUARD_H

#include <stdint.h>

typedef struct guard_config {
    uint32_t throttle_after; /* failures of a name before each next one waits longer */
    uint32_t lock_after;     /* failures of a name that lock it (0 = never) */
    uint32_t lock_after_ip;  /* failures from an address that lock it (0 = never) */
    uint32_t lock_s;         /* how long a lock lasts, and failures are remembered; 0 = until unlocked */
} guard_config;

typedef struct guard guard;

enum { GUARD_OPEN = 0, GUARD_USER_LOCKED, GUARD_IP_LOCKED };

guard *guard_new(const guard_config *cfg);
void guard_free(guard *g);
/* May a login of user from ip be checked at all?  GUARD_OPEN or why not. */
int guard_verdict(guard *g, const char *user, uint32_t ip, int64_t now_ns);
/* A wrong password (or unknown user): counts it, locks at the limits, and
 * returns how much longer than usual its answer waits (the throttle). */
int64_t guard_failed(guard *g, const char *user, uint32_t ip, int64_t now_ns);
/* A right password: the name's count starts again (not the address's, or one
 * good account would wash an address's guesses away). */
void guard_succeeded(guard *g, const char *user);
/* Lift a lock and forget the failures of a user name or of an address
 * ("A.B.C.D"); 1 when there was anything to forget. */
int guard_unlock(guard *g, const char *name);
/* Counts, for the order of checks (auth.c), tests and logs. */
uint32_t guard_failures(guard *g, const char *user);
uint32_t guard_ip_failures(guard *g, uint32_t ip, int64_t now_ns);

#endif
