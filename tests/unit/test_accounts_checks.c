/*
 * test_accounts_checks.c - the shell's checks before an account command
 * (src/accounts): names, e-mail, password strength, identity data with the
 * age at a given date, amounts, reasons, document sniffing and durable
 * storage, and the sign-up command with its argon2id hash.
 */
#include "accounts/accounts.h"
#include "check.h"
#include "rmdir.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static acct_err err;

#define OK(x) CHECK_EQ((x), 0)
#define NO(x, want_code, want_text)                                                                          \
    do {                                                                                                     \
        err = (acct_err){0};                                                                                 \
        CHECK_EQ((x), -1);                                                                                   \
        CHECK(err.code &&strcmp(err.code, want_code) == 0);                                                  \
        if (!strstr(err.message, want_text)) {                                                               \
            printf("FAIL %s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, err.message, want_text); \
            check_failures++;                                                                                \
        }                                                                                                    \
    } while (0)

static void test_username(void)
{
    OK(acct_check_username("alice", &err));
    OK(acct_check_username("Bob_the-2nd", &err));
    OK(acct_check_username("abcdefghijklmnop", &err)); /* 16 */
    NO(acct_check_username("", &err), "MISSING_FIELD", "needed");
    NO(acct_check_username("al", &err), "BAD_FIELD", "3 to 16");
    NO(acct_check_username("abcdefghijklmnopq", &err), "BAD_FIELD", "3 to 16");
    NO(acct_check_username("1alice", &err), "BAD_FIELD", "starts with a letter");
    NO(acct_check_username("al ice", &err), "BAD_FIELD", "no spaces");
    NO(acct_check_username("al/ice", &err), "BAD_FIELD", "only letters");
    NO(acct_check_username("fees", &err), "BAD_FIELD", "fee account");
}

static void test_email(void)
{
    OK(acct_check_email("a@example.com", &err));
    OK(acct_check_email("first.last+tag@mail.example.org", &err));
    NO(acct_check_email("", &err), "MISSING_FIELD", "needed");
    NO(acct_check_email("example.com", &err), "BAD_FIELD", "not an e-mail");
    NO(acct_check_email("a@b@example.com", &err), "BAD_FIELD", "not an e-mail");
    NO(acct_check_email(".a@example.com", &err), "BAD_FIELD", "before '@'");
    NO(acct_check_email("a..b@example.com", &err), "BAD_FIELD", "before '@'");
    NO(acct_check_email("a b@example.com", &err), "BAD_FIELD", "before '@'");
    NO(acct_check_email("a@localhost", &err), "BAD_FIELD", "top-level");
    NO(acct_check_email("a@example.c0m", &err), "BAD_FIELD", "top-level");
    NO(acct_check_email("a@-example.com", &err), "BAD_FIELD", "domain");
    NO(acct_check_email("a@exa_mple.com", &err), "BAD_FIELD", "domain");
    NO(acct_check_email("a@example..com", &err), "BAD_FIELD", "domain");
    char longmail[300];
    memset(longmail, 'a', 250);
    strcpy(longmail + 250, "@x.com");
    NO(acct_check_email(longmail, &err), "BAD_FIELD", "not an e-mail");
}

static void test_password(void)
{
    OK(acct_check_password("correct horse battery", "alice", &err));
    NO(acct_check_password("", "alice", &err), "MISSING_FIELD", "needed");
    NO(acct_check_password("short1!", "alice", &err), "BAD_FIELD", "too short");
    char big[200];
    memset(big, 'x', 150);
    big[0] = 'y';
    big[150] = 0;
    NO(acct_check_password(big, "alice", &err), "BAD_FIELD", "too long");
    NO(acct_check_password("aaaaaaaaaaaa", "alice", &err), "BAD_FIELD", "repeated");
    NO(acct_check_password("xxAlice12345", "alice", &err), "BAD_FIELD", "user name");
    NO(acct_check_password("PASSWORD123", "alice", &err), "BAD_FIELD", "most common");
    NO(acct_check_password("qwertyuiop", "bob", &err), "BAD_FIELD", "most common");
    CHECK_EQ(strcmp(err.field, "password"), 0);
}

static void test_kyc(void)
{
    uint32_t today = 20261204;
    OK(acct_check_kyc("Ada Lovelace", "1990-12-10", "GB", "P1234567", today, &err));
    OK(acct_check_kyc("Zoë Ñúñez-O'Brien", "2008-12-04", "ES", "X-1234", today, &err)); /* 18 today */
    NO(acct_check_kyc("Kid", "2008-12-05", "ES", "X1234", today, &err), "BAD_FIELD", "at least 18");
    NO(acct_check_kyc("Later", "2030-01-01", "ES", "X1234", today, &err), "BAD_FIELD", "future");
    OK(acct_check_kyc("Leap", "2000-02-29", "FR", "AB12", today, &err));
    NO(acct_check_kyc("Leap", "2001-02-29", "FR", "AB12", today, &err), "BAD_FIELD", "no date");
    NO(acct_check_kyc("Leap", "1900-02-29", "FR", "AB12", today, &err), "BAD_FIELD", "no date");
    NO(acct_check_kyc("Month", "1990-13-01", "FR", "AB12", today, &err), "BAD_FIELD", "no date");
    NO(acct_check_kyc("Fmt", "1990-1-01", "FR", "AB12", today, &err), "BAD_FIELD", "no date");
    NO(acct_check_kyc("Fmt", "01/02/1990", "FR", "AB12", today, &err), "BAD_FIELD", "no date");
    NO(acct_check_kyc("", "1990-01-01", "FR", "AB12", today, &err), "MISSING_FIELD", "legal name");
    NO(acct_check_kyc(" Ada", "1990-01-01", "FR", "AB12", today, &err), "BAD_FIELD", "legal name");
    NO(acct_check_kyc("Ada\nX", "1990-01-01", "FR", "AB12", today, &err), "BAD_FIELD", "legal name");
    NO(acct_check_kyc("Ada \xff", "1990-01-01", "FR", "AB12", today, &err), "BAD_FIELD", "legal name");
    NO(acct_check_kyc("Ada", "1990-01-01", "XX", "AB12", today, &err), "BAD_FIELD", "ISO 3166");
    NO(acct_check_kyc("Ada", "1990-01-01", "fr", "AB12", today, &err), "BAD_FIELD", "ISO 3166");
    NO(acct_check_kyc("Ada", "1990-01-01", "", "AB12", today, &err), "MISSING_FIELD", "country");
    NO(acct_check_kyc("Ada", "1990-01-01", "FR", "AB1", today, &err), "BAD_FIELD", "4 to 32");
    NO(acct_check_kyc("Ada", "1990-01-01", "FR", "AB 12", today, &err), "BAD_FIELD", "letters, digits");
    CHECK(acct_country_known("ZW") && acct_country_known("AD") && acct_country_known("US"));
    CHECK(!acct_country_known("UK") && !acct_country_known("ZZ") && !acct_country_known("A"));
}

static void test_amount(void)
{
    int64_t v = 0;
    OK(acct_parse_amount("1000.25", 1, &v, &err));
    CHECK_EQ(v, 10002500);
    OK(acct_parse_amount("7", 1, &v, &err));
    CHECK_EQ(v, 70000);
    OK(acct_parse_amount("0.0001", 1, &v, &err));
    CHECK_EQ(v, 1);
    OK(acct_parse_amount("50", 0, &v, &err));
    CHECK_EQ(v, 50);
    NO(acct_parse_amount("1.00001", 1, &v, &err), "BAD_FIELD", "4 decimals");
    NO(acct_parse_amount("1.5", 0, &v, &err), "BAD_FIELD", "whole number");
    NO(acct_parse_amount("0", 1, &v, &err), "BAD_FIELD", "more than zero");
    NO(acct_parse_amount("-5", 1, &v, &err), "BAD_FIELD", "decimal number");
    NO(acct_parse_amount("1.", 1, &v, &err), "BAD_FIELD", "decimal number");
    NO(acct_parse_amount("99999999999999999999", 1, &v, &err), "BAD_FIELD", "too large");
    NO(acct_parse_amount("900000000000001", 1, &v, &err), "BAD_FIELD", "too large");
    NO(acct_parse_amount("", 1, &v, &err), "MISSING_FIELD", "needed");
    OK(acct_check_reason("the photo is blurred", &err));
    NO(acct_check_reason("", &err), "MISSING_FIELD", "reason");
    NO(acct_check_reason("a\tb", &err), "BAD_FIELD", "printable");
}

static void test_documents(void)
{
    static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    static const unsigned char jpg[] = "\xff\xd8\xff\xe0\0\x10JFIF";
    static const char pdf[] = "%PDF-1.7\n%\xe2\xe3\n1 0 obj";
    acct_doc d;
    CHECK_EQ(acct_doc_sniff(png, sizeof png), ACCT_DOC_PNG);
    CHECK_EQ(acct_doc_sniff(jpg, sizeof jpg), ACCT_DOC_JPEG);
    CHECK_EQ(acct_doc_sniff(pdf, sizeof pdf), ACCT_DOC_PDF);
    CHECK_EQ(acct_doc_sniff("GIF89a....", 10), ACCT_DOC_NONE);
    CHECK_EQ(acct_doc_sniff("%PD", 3), ACCT_DOC_NONE);
    CHECK_EQ(acct_doc_sniff("\xff\xfe\x00\x00", 4), ACCT_DOC_NONE); /* UTF-16 text, not JPEG */
    CHECK_EQ(acct_doc_sniff("\x89PNG\r\n\x1a", 7), ACCT_DOC_NONE);
    OK(acct_doc_check(pdf, sizeof pdf, "application/pdf", &d, &err));
    CHECK(d.type == ACCT_DOC_PDF && d.size == sizeof pdf && strlen(d.sha256) == 64);
    OK(acct_doc_check(png, sizeof png, NULL, &d, &err));
    OK(acct_doc_check(jpg, sizeof jpg, "image/jpeg; charset=binary", &d, &err));
    NO(acct_doc_check(png, sizeof png, "application/pdf", &d, &err), "BAD_FIELD", "content is image/png");
    NO(acct_doc_check("<html>", 6, "image/png", &d, &err), "BAD_FIELD", "no PNG, JPEG or PDF");
    NO(acct_doc_check(pdf, 0, NULL, &d, &err), "BAD_FIELD", "empty");
    unsigned char *big = calloc(1, ACCT_DOC_MAX + 1);
    memcpy(big, pdf, 8);
    OK(acct_doc_check(big, ACCT_DOC_MAX, NULL, &d, &err));
    NO(acct_doc_check(big, ACCT_DOC_MAX + 1, NULL, &d, &err), "TOO_LARGE", "5 MiB");
    free(big);
    /* the sha256 of "abc" */
    OK(acct_doc_check("%PDF-abc", 8, NULL, &d, &err));
    char dir[] = "/tmp/bourse-kyc-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    OK(acct_doc_store(dir, "alice", "%PDF-abc", 8, &d, &err));
    char path[4200];
    acct_doc_path(dir, "alice", d.sha256, "pdf", path, sizeof path);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 8 && (st.st_mode & 077) == 0);
    OK(acct_doc_store(dir, "alice", "%PDF-abc", 8, &d, &err)); /* again: the same file */
    NO(acct_doc_store(dir, "../etc", "%PDF-abc", 8, &d, &err), "BAD_FIELD", "user name");
    rm_rf(dir);
}

static void test_commands(void)
{
    bourse_account_cmd c;
    OK(acct_signup_cmd("alice", "alice@example.com", "correct horse battery", 1, &c, &err));
    CHECK(c.op == BOURSE_AOP_SIGNUP && strncmp(c.hash, "$argon2id$", 10) == 0);
    CHECK(acct_verify_password(c.hash, "correct horse battery"));
    CHECK(!acct_verify_password(c.hash, "correct horse batterx"));
    CHECK(strstr(c.hash, "correct") == NULL);
    NO(acct_signup_cmd("alice", "alice@example.com", "password123", 1, &c, &err), "BAD_FIELD", "common");
    NO(acct_signup_cmd("alice", "alice", "correct horse battery", 1, &c, &err), "BAD_FIELD", "e-mail");
    acct_doc d = {.type = ACCT_DOC_PNG, .size = 10};
    memset(d.sha256, 'c', 64);
    OK(acct_kyc_cmd("alice", "Alice A", "1990-01-01", "FR", "AB1234", &d, 20261204, &c, &err));
    CHECK(c.op == BOURSE_AOP_KYC && strcmp(c.doc_type, "png") == 0 && c.doc_size == 10);
    NO(acct_kyc_cmd("alice", "Alice A", "1990-01-01", "FR", "AB1234", NULL, 20261204, &c, &err),
       "MISSING_FIELD", "document");
    bourse_cmd f[BOURSE_ACCOUNT_FRAGMENTS];
    CHECK(bourse_account_encode(&c, f) > 1);
    CHECK_EQ(acct_http_status("CONFLICT"), 409);
    CHECK_EQ(acct_http_status("TOO_LARGE"), 413);
    CHECK(strcmp(acct_api_code(BOURSE_AE_WRONG_STATE), "CONFLICT") == 0);
    CHECK(strcmp(acct_api_code(BOURSE_AE_NOT_ACTIVE), "NOT_ACTIVE") == 0);
}

int main(void)
{
    RUN(test_username);
    RUN(test_email);
    RUN(test_password);
    RUN(test_kyc);
    RUN(test_amount);
    RUN(test_documents);
    RUN(test_commands);
    return CHECK_DONE();
}
