/*
 * passwd.h - order-entry passwords: DIR/passwords, outside the core and the
 * journal.
 *
 * One line per user, "USER:HASH", where HASH is libsodium's
 * crypto_pwhash_str() string (argon2id, with its salt and cost inside).
 * The file is owner-only and always replaced whole (write a temporary
 * file, fsync, rename), under an flock so two admins cannot lose each
 * other's change.  Passwords are never stored or logged in plain text.
 *
 * Checking a password costs what its hash was made to cost (on purpose); a
 * server that sees the same good password again skips that cost with a
 * keyed BLAKE2b verifier kept in memory only, reset when the hash changes.
 */
#ifndef BOURSE_SERVER_PASSWD_H
#define BOURSE_SERVER_PASSWD_H

#include <stddef.h>

enum { PASSWD_INTERACTIVE = 0, PASSWD_FAST = 1 };

/* Set the passwords of n users (the same cost for all); 0 or -1 with err. */
int passwd_set(const char *dir, const char *const *users, const char *const *passwords, size_t n, int cost,
               char *err, size_t errlen);

/* A valid user name for a password: 1-16 of A-Z a-z 0-9 _ - */
int passwd_valid_user(const char *user);

typedef struct passwd_db passwd_db;
passwd_db *passwd_open(const char *dir);
/* 1 when the user has this password, 0 otherwise (unknown user included). */
int passwd_check(passwd_db *db, const char *user, const char *password);
void passwd_close(passwd_db *db);

/* passwd_check in two halves, so the slow half can run on another thread
 * (auth.c): passwd_lookup answers from memory when it can, else copies the
 * user's hash out for passwd_verify_hash (thread-safe, touches no db), and
 * passwd_remember keeps the verifier of a password that passed, if the
 * user's hash is still the one checked. */
enum { PASSWD_NO_USER = 0, PASSWD_OK, PASSWD_BAD, PASSWD_SLOW };
enum { PASSWD_HASH_MAX = 128 }; /* crypto_pwhash_STRBYTES */
int passwd_lookup(passwd_db *db, const char *user, const char *password, char hash[PASSWD_HASH_MAX]);
int passwd_verify_hash(const char *hash, const char *password);
void passwd_remember(passwd_db *db, const char *user, const char *hash, const char *password);
/* `bourse admin --data DIR unlock NAME`: append NAME (a user or an address
 * A.B.C.D) to DIR/unlocks, which the server's auth thread reads (auth.c)
 * to lift its lock; 0, or -1 with err. */
int passwd_unlock(const char *dir, const char *name, char *err, size_t errlen);
/* A hash of some user (for timing a check), or 0 when the file has none. */
int passwd_any_hash(passwd_db *db, char hash[PASSWD_HASH_MAX]);

#endif
