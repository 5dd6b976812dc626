/*
 * passwd.c - the password file and its checks (see passwd.h).
 */
#include "server/passwd.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

enum { USER_MAX = 16, HASH_MAX = crypto_pwhash_STRBYTES };
_Static_assert((int)HASH_MAX <= (int)PASSWD_HASH_MAX, "passwd.h's PASSWD_HASH_MAX");

typedef struct entry {
    char user[USER_MAX + 1];
    char hash[HASH_MAX];
    unsigned char verifier[32];
    int verified;
} entry;

struct passwd_db {
    char path[600];
    struct stat st;
    int loaded;
    entry *e;
    size_t n;
    unsigned char key[crypto_generichash_KEYBYTES];
};

int passwd_valid_user(const char *u)
{
    size_t n = strlen(u);
    if (n < 1 || n > USER_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->user, ((const entry *)b)->user);
}

/* Read DIR/passwords into a sorted array; missing file = empty. */
static int read_file(const char *path, entry **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    size_t cap = 0;
    char line[USER_MAX + HASH_MAX + 8];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = 0;
        char *h = colon + 1;
        h[strcspn(h, "\r\n")] = 0;
        if (!passwd_valid_user(line) || strlen(h) >= HASH_MAX)
            continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 64;
            entry *p = realloc(*out, cap * sizeof *p);
            if (!p) {
                fclose(f);
                return -1;
            }
            *out = p;
        }
        entry *e = &(*out)[(*count)++];
        memset(e, 0, sizeof *e);
        strcpy(e->user, line);
        strcpy(e->hash, h);
    }
    fclose(f);
    qsort(*out, *count, sizeof **out, cmp_entry);
    return 0;
}

static entry *find(entry *e, size_t n, const char *user)
{
    entry key;
    snprintf(key.user, sizeof key.user, "%s", user);
    return bsearch(&key, e, n, sizeof *e, cmp_entry);
}

int passwd_set(const char *dir, const char *const *users, const char *const *passwords, size_t n, int cost,
               char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to start");
        return -1;
    }
    char path[600], tmp[620], lockp[620];
    snprintf(path, sizeof path, "%s/passwords", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(lockp, sizeof lockp, "%s.lock", path);
    int lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        snprintf(err, errlen, "%s: %s", lockp, strerror(errno));
        if (lock >= 0)
            close(lock);
        return -1;
    }
    entry *e;
    size_t count;
    int rc = -1;
    FILE *f = NULL;
    if (read_file(path, &e, &count) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    entry *all = realloc(e, (count + n + 1) * sizeof *e);
    if (!all) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    e = all;
    unsigned long long ops =
        cost == PASSWD_FAST ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = cost == PASSWD_FAST ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    for (size_t i = 0; i < n; i++) {
        if (!passwd_valid_user(users[i])) {
            snprintf(err, errlen, "bad user name '%s'", users[i]);
            goto out;
        }
        entry *x = NULL;
        for (size_t j = 0; j < count && !x; j++)
            if (!strcmp(e[j].user, users[i]))
                x = &e[j];
        if (!x) {
            x = &e[count++];
            memset(x, 0, sizeof *x);
            strcpy(x->user, users[i]);
        }
        if (crypto_pwhash_str(x->hash, passwords[i], strlen(passwords[i]), ops, mem) != 0) {
            snprintf(err, errlen, "out of memory hashing the password");
            goto out;
        }
    }
    mode_t old = umask(077);
    f = fopen(tmp, "w");
    umask(old);
    if (!f) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < count; i++)
        fprintf(f, "%s:%s\n", e[i].user, e[i].hash);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0) {
        f = NULL;
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
        fsync(d);
        close(d);
    }
    rc = 0;
out:
    if (f)
        fclose(f);
    if (e)
        sodium_memzero(e, count * sizeof *e);
    free(e);
    close(lock);
    return rc;
}

passwd_db *passwd_open(const char *dir)
{
    if (sodium_init() < 0)
        return NULL;
    passwd_db *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    snprintf(db->path, sizeof db->path, "%s/passwords", dir);
    crypto_generichash_keygen(db->key);
    return db;
}

static void reload(passwd_db *db)
{
    struct stat st;
    if (stat(db->path, &st) != 0)
        memset(&st, 0, sizeof st);
    if (db->loaded && st.st_ino == db->st.st_ino && st.st_size == db->st.st_size &&
        st.st_mtim.tv_sec == db->st.st_mtim.tv_sec && st.st_mtim.tv_nsec == db->st.st_mtim.tv_nsec)
        return;
    entry *e;
    size_t n;
    if (read_file(db->path, &e, &n) != 0)
        return;
    /* keep verifiers of unchanged hashes */
    for (size_t i = 0; i < n; i++) {
        entry *old = db->e ? find(db->e, db->n, e[i].user) : NULL;
        if (old && old->verified && !strcmp(old->hash, e[i].hash)) {
            memcpy(e[i].verifier, old->verifier, sizeof e[i].verifier);
            e[i].verified = 1;
        }
    }
    free(db->e);
    db->e = e;
    db->n = n;
    db->st = st;
    db->loaded = 1;
}

int passwd_lookup(passwd_db *db, const char *user, const char *password, char hash[PASSWD_HASH_MAX])
{
    reload(db);
    entry *e = db->e ? find(db->e, db->n, user) : NULL;
    if (!e)
        return PASSWD_NO_USER;
    if (e->verified) {
        unsigned char v[32];
        crypto_generichash(v, sizeof v, (const unsigned char *)password, strlen(password), db->key,
                           sizeof db->key);
        return sodium_memcmp(v, e->verifier, sizeof v) == 0 ? PASSWD_OK : PASSWD_BAD;
    }
    snprintf(hash, PASSWD_HASH_MAX, "%s", e->hash);
    return PASSWD_SLOW;
}

int passwd_verify_hash(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void passwd_remember(passwd_db *db, const char *user, const char *hash, const char *password)
{
    entry *e = db->e ? find(db->e, db->n, user) : NULL;
    if (!e || strcmp(e->hash, hash) != 0)
        return; /* changed while it was being checked: the next login checks the new one */
    crypto_generichash(e->verifier, sizeof e->verifier, (const unsigned char *)password, strlen(password),
                       db->key, sizeof db->key);
    e->verified = 1;
}

int passwd_any_hash(passwd_db *db, char hash[PASSWD_HASH_MAX])
{
    reload(db);
    if (!db->n)
        return 0;
    snprintf(hash, PASSWD_HASH_MAX, "%s", db->e[0].hash);
    return 1;
}

int passwd_check(passwd_db *db, const char *user, const char *password)
{
    char hash[PASSWD_HASH_MAX];
    int r = passwd_lookup(db, user, password, hash);
    if (r != PASSWD_SLOW)
        return r == PASSWD_OK;
    if (!passwd_verify_hash(hash, password))
        return 0;
    passwd_remember(db, user, hash, password);
    return 1;
}

void passwd_close(passwd_db *db)
{
    if (!db)
        return;
    free(db->e);
    free(db);
}

/* `bourse admin --data DIR unlock NAME` (no server needed to write it). */
int passwd_unlock(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[620];
    snprintf(path, sizeof path, "%s/unlocks", dir);
    size_t n = strlen(name);
    if (!n || n > 64 || strpbrk(name, "\r\n")) {
        snprintf(err, errlen, "bad name '%s'", name);
        return -1;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    char line[80];
    int k = snprintf(line, sizeof line, "%s\n", name);
    if (fd < 0 || write(fd, line, (size_t)k) != k) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}
