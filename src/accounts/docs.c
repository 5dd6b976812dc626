/*
 * docs.c - identity documents (checked by content, stored durably), the
 * password hash of a sign-up, and the account commands built from checked
 * input (accounts.h).
 *
 * Storing: DATA/kyc/ and DATA/kyc/USER/ are made owner-only; the bytes go
 * to a temporary file in the same directory, which is fsync'd and renamed
 * to SHA256.EXT, and the directory is fsync'd, so the name never points at
 * a partial file and survives a power cut once this returns.  The user
 * name is checked again here (it becomes a path component).
 */
#include "accounts/accounts.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int refuse(acct_err *err, const char *code, const char *field, const char *msg)
{
    err->code = code;
    snprintf(err->field, sizeof err->field, "%s", field);
    snprintf(err->message, sizeof err->message, "%s", msg);
    return -1;
}

static const char *const type_names[] = {"", "png", "jpeg", "pdf"};
static const char *const mimes[] = {"", "image/png", "image/jpeg", "application/pdf"};

const char *acct_doc_type_name(int t)
{
    return t > 0 && t <= ACCT_DOC_PDF ? type_names[t] : "";
}

const char *acct_doc_mime(int t)
{
    return t > 0 && t <= ACCT_DOC_PDF ? mimes[t] : "application/octet-stream";
}

int acct_doc_type_of(const char *name)
{
    for (int t = ACCT_DOC_PNG; t <= ACCT_DOC_PDF; t++)
        if (name && strcmp(name, type_names[t]) == 0)
            return t;
    return ACCT_DOC_NONE;
}

int acct_doc_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return ACCT_DOC_PNG;
    if (len >= 4 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return ACCT_DOC_JPEG;
    if (len >= 5 && memcmp(p, "%PDF-", 5) == 0)
        return ACCT_DOC_PDF;
    return ACCT_DOC_NONE;
}

int acct_doc_check(const void *data, size_t len, const char *content_type, acct_doc *out, acct_err *err)
{
    if (len == 0)
        return refuse(err, "BAD_FIELD", "document", "the document is empty");
    if (len > ACCT_DOC_MAX)
        return refuse(err, "TOO_LARGE", "document", "the document is larger than 5 MiB");
    int t = acct_doc_sniff(data, len);
    if (!t)
        return refuse(err, "BAD_FIELD", "document",
                      "the document is no PNG, JPEG or PDF file (by its content)");
    if (content_type && *content_type) {
        size_t n = strcspn(content_type, "; ");
        if (n != strlen(mimes[t]) || strncasecmp(content_type, mimes[t], n) != 0) {
            char msg[120];
            snprintf(msg, sizeof msg, "the document's content is %s, not %.*s", mimes[t],
                     (int)(n < 40 ? n : 40), content_type);
            return refuse(err, "BAD_FIELD", "document", msg);
        }
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    for (int i = 0; i < 32; i++)
        snprintf(out->sha256 + 2 * i, 3, "%02x", h[i]);
    out->type = t;
    out->size = (uint32_t)len;
    return 0;
}

void acct_doc_path(const char *dir, const char *user, const char *sha256, const char *type, char *out,
                   size_t outlen)
{
    snprintf(out, outlen, "%s/kyc/%s/%s.%s", dir, user, sha256, type);
}

static int sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0) {
        char parent[4200];
        snprintf(parent, sizeof parent, "%s/..", path);
        return sync_dir(parent);
    }
    return errno == EEXIST ? 0 : -1;
}

int acct_doc_store(const char *dir, const char *user, const void *data, size_t len, const acct_doc *doc,
                   acct_err *err)
{
    char path[4096], tmp[4200], sub[3000];
    if (acct_check_username(user, err) != 0)
        return -1;
    snprintf(sub, sizeof sub, "%s/kyc", dir);
    if (make_dir(sub) != 0)
        return refuse(err, "CAPACITY", "", "cannot make the kyc directory");
    snprintf(sub, sizeof sub, "%s/kyc/%s", dir, user);
    if (make_dir(sub) != 0)
        return refuse(err, "CAPACITY", "", "cannot make the user's kyc directory");
    acct_doc_path(dir, user, doc->sha256, acct_doc_type_name(doc->type), path, sizeof path);
    /* a name of its own: two uploads of one file may be stored at once
     * (the HTTP API's worker threads) */
    snprintf(tmp, sizeof tmp, "%s.tmp%ld.%08x", path, (long)getpid(), randombytes_random());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return refuse(err, "CAPACITY", "", "cannot store the document");
    const unsigned char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return refuse(err, "CAPACITY", "", "cannot store the document (disk full?)");
        }
        p += w, left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0 || sync_dir(sub) != 0) {
        unlink(tmp);
        return refuse(err, "CAPACITY", "", "cannot store the document durably");
    }
    return 0;
}

int acct_hash_password(const char *password, int fast, char hash[BOURSE_ACCOUNT_HASH_MAX + 1])
{
    if (sodium_init() < 0)
        return -1;
    unsigned long long ops = fast ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = fast ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password, strlen(password), ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -1;
    if (strlen(out) > BOURSE_ACCOUNT_HASH_MAX)
        return -1;
    strcpy(hash, out);
    return 0;
}

int acct_verify_password(const char *hash, const char *password)
{
    if (sodium_init() < 0 || !hash || !*hash)
        return 0;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int acct_signup_cmd(const char *user, const char *email, const char *password, int fast,
                    bourse_account_cmd *out, acct_err *err)
{
    if (acct_check_username(user, err) || acct_check_email(email, err) ||
        acct_check_password(password, user, err))
        return -1;
    *out = (bourse_account_cmd){.op = BOURSE_AOP_SIGNUP};
    snprintf(out->user, sizeof out->user, "%s", user);
    snprintf(out->email, sizeof out->email, "%s", email);
    if (acct_hash_password(password, fast, out->hash) != 0)
        return refuse(err, "CAPACITY", "", "the password could not be hashed (out of memory)");
    return 0;
}

int acct_kyc_cmd(const char *user, const char *legal_name, const char *dob, const char *country,
                 const char *id_number, const acct_doc *doc, uint32_t today, bourse_account_cmd *out,
                 acct_err *err)
{
    if (acct_check_kyc(legal_name, dob, country, id_number, today, err))
        return -1;
    if (!doc || !doc->type)
        return refuse(err, "MISSING_FIELD", "document", "send the identity document first");
    *out = (bourse_account_cmd){.op = BOURSE_AOP_KYC, .doc_size = doc->size};
    snprintf(out->user, sizeof out->user, "%s", user);
    snprintf(out->legal_name, sizeof out->legal_name, "%s", legal_name);
    snprintf(out->dob, sizeof out->dob, "%s", dob);
    snprintf(out->country, sizeof out->country, "%s", country);
    snprintf(out->id_number, sizeof out->id_number, "%s", id_number);
    snprintf(out->doc_sha256, sizeof out->doc_sha256, "%s", doc->sha256);
    snprintf(out->doc_type, sizeof out->doc_type, "%s", acct_doc_type_name(doc->type));
    return 0;
}
