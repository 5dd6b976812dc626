/*
 * hold.h - holder threads of `bourse load`: logged-in sessions that only stay
 * alive, each thread with its own file-descriptor table (see hold.c).
 */
#ifndef BOURSE_LOAD_HOLD_H
#define BOURSE_LOAD_HOLD_H

#include <stdint.h>

/* Sessions per source address (127.0.x.y): one address has ~28,000
 * ephemeral ports to one destination, and the server's default
 * [gateway] sessions_per_ip is 1,000. */
enum { HOLD_PER_IP = 1000 };

/* The source address of session number i (0, 1, ... over the whole run). */
void hold_source(uint32_t i, char out[32]);

/* Room for descriptors: raise the soft open-file limit to what `sessions`
 * need or the hard limit, whichever is lower.  *nmain is how many sessions
 * the main loop's table then holds (less a reserve for its other
 * descriptors; at most main_cap unless 0, at least 1); returns how many
 * sessions one holder thread may take in its own table. */
uint32_t hold_room(uint32_t sessions, uint32_t main_cap, uint32_t *nmain);

typedef struct hold_opts {
    const char *host;
    uint16_t port;
    uint32_t first, count; /* session numbers first .. first+count-1 */
    uint32_t users;        /* session i logs in as user i % users */
    void (*user_name)(uint32_t user, char out[17]);
    const char *password;
    uint32_t per_thread;  /* at most this many sessions in one thread (one fd table) */
    uint32_t min_threads; /* at least this many threads (tests) */
    int heartbeat_ms;     /* a Client Heartbeat on each session this often; 0: none (tests) */
    int login_timeout_ms; /* from a session's connect to its Login Accepted */
} hold_opts;

typedef struct hold_stats {
    uint32_t threads;
    uint64_t logged_in;   /* sessions that got Login Accepted */
    uint64_t failed;      /* logins that failed or were never tried after a failure */
    uint64_t disconnects; /* logged-in sessions the server closed */
    double login_seconds; /* from hold_start until every thread finished logging in */
    char first_error[160];
} hold_stats;

typedef struct holders holders;

/* Start the threads; they connect and log in their sessions at once.  NULL
 * (with a message) if no thread could be started. */
holders *hold_start(const hold_opts *o);

/* 1 once every thread has finished logging in (each login ends with Login
 * Accepted, a failure or its timeout, so this comes in bounded time). */
int hold_logins_done(holders *h);

/* The counts so far. */
void hold_get(holders *h, hold_stats *st);

/* Stop the threads (within ~100 ms), close their sessions, and give the
 * final counts; h is freed. */
void hold_stop(holders *h, hold_stats *st);

#endif
