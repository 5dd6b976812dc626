/*
 * auth.h - who a request is: browser sessions, API keys and their signed
 * requests, login throttling and rate limits.  Pure state and arithmetic
 * (time is passed in, milliseconds), so tests/unit/test_http.c drives it
 * without a network.
 *
 * Browser sessions: a random 256-bit token in the HttpOnly cookie
 * bourse_session, of which only a BLAKE2b hash is kept (a memory dump does
 * not give live tokens), and a second random value for the bourse_csrf
 * cookie, which the page must echo in X-CSRF-Token on every POST and
 * DELETE (double submit: another site can make the browser send the
 * cookies, not read them).  A session ends after session_s idle or at
 * logout.  With auth_sessions_persist the table is also a file (hashes,
 * never tokens), so a restart logs nobody out.
 *
 * API keys: a key id (public, 16 hex) and a secret of 64 hex characters
 * (256 random bits) shown once; the HMAC key is that text itself.  A
 * request is signed with HMAC-SHA256(secret, TS "\n" NONCE "\n" METHOD "\n"
 * PATH?QUERY "\n" BODY); the server takes it when the timestamp is within
 * 30 s of its clock, the nonce (8-64 of A-Z a-z 0-9 - _) was not seen in
 * the last 60 s (a nonce cache of fixed size; when full, the oldest entries
 * go only if older than the window, else the request is refused RATE
 * limited rather than risk a replay) and the signature matches (compared in
 * constant time).  Keys live in DATA/api-keys (0600), one line each.
 *
 * Throttling: failed logins are counted per account name and per address;
 * at login_fails within login_lock_s the name (or address) is locked for
 * login_lock_s.  Rate limits: GCRA per address and per key or session.
 */
#ifndef BOURSE_HTTP_AUTH_H
#define BOURSE_HTTP_AUTH_H

#include <stddef.h>
#include <stdint.h>

enum { AUTH_NONE = 0, AUTH_COOKIE, AUTH_KEY };
enum { AUTH_USER = 16, AUTH_TOKEN_HEX = 64, AUTH_KEY_ID = 16, AUTH_SECRET_HEX = 64 };
enum { AUTH_SKEW_MS = 30000, AUTH_NONCE_WINDOW_MS = 60000 };

typedef struct auth_state auth_state;

typedef struct auth_limits {
    uint32_t session_s, login_fails, login_lock_s;
    uint32_t rate_ip, rate_key; /* per second; burst twice that */
    uint32_t max_sessions;      /* browser sessions kept (4,096) */
    uint32_t nonces;            /* nonce cache entries (65,536) */
} auth_limits;

/* keys_file: DATA/api-keys, or NULL for keys in memory only. */
auth_state *auth_new(const auth_limits *l, const char *keys_file);
void auth_free(auth_state *a);

/* --- sessions --- */
/* A new session: its cookie token and CSRF value (hex, NUL-terminated).
 * Returns its slot + 1, or 0 when full of live sessions. */
uint32_t auth_session_new(auth_state *a, const char *user, int op, int64_t now,
                          char token[AUTH_TOKEN_HEX + 1], char csrf[AUTH_TOKEN_HEX + 1]);
/* The live session of a cookie token (slot + 1; 0 none); touches it. */
uint32_t auth_session_find(auth_state *a, const char *token, int64_t now);
const char *auth_session_user(auth_state *a, uint32_t s);
int auth_session_op(auth_state *a, uint32_t s);
void auth_session_set_op(auth_state *a, uint32_t s, int op);
/* Whether csrf is the session's CSRF value (constant time). */
int auth_session_csrf(auth_state *a, uint32_t s, const char *csrf);
void auth_session_end(auth_state *a, uint32_t s);
/* Keep the sessions in file (DATA/http-sessions, 0600) so that a restarted
 * server takes the cookies it gave: loads the live ones, rewrites the file
 * with only those, then appends each new session, logout and (at most four
 * times per session_s) a session's last use.  0, or -1 (not kept). */
int auth_sessions_persist(auth_state *a, const char *file, int64_t now);

/* --- API keys --- */
/* A new key of user: 0 with id and secret (hex), -1 (full or not saved). */
int auth_key_new(auth_state *a, const char *user, const char *label, char id[AUTH_KEY_ID + 1],
                 char secret[AUTH_SECRET_HEX + 1]);
enum { SIG_OK = 0, SIG_UNKNOWN_KEY, SIG_STALE, SIG_BAD_NONCE, SIG_REPLAYED, SIG_BAD, SIG_BUSY };
/* Check a signed request: SIG_OK with the key's user in user[]. */
int auth_key_check(auth_state *a, const char *id, const char *ts, const char *nonce, const char *sig,
                   const char *method, const char *path_query, const uint8_t *body, size_t blen, int64_t now,
                   char user[AUTH_USER + 1]);
/* The signature itself (hex), for clients and tests. */
void auth_sign(const uint8_t *secret, size_t slen, const char *ts, const char *nonce, const char *method,
               const char *path_query, const uint8_t *body, size_t blen, char out[AUTH_SECRET_HEX + 1]);

/* --- throttling and rate limits --- */
/* Whether a login of name from ip may be tried now (0), or is locked (-1). */
int auth_login_allowed(auth_state *a, const char *name, uint32_t ip, int64_t now);
void auth_login_failed(auth_state *a, const char *name, uint32_t ip, int64_t now);
void auth_login_ok(auth_state *a, const char *name, uint32_t ip);
/* GCRA: 1 when one more request of this address (or key/user) may go now. */
int auth_rate_ip(auth_state *a, uint32_t ip, int64_t now);
int auth_rate_key(auth_state *a, const char *who, int64_t now);

#endif
