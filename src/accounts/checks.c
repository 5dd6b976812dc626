/*
 * checks.c - the syntax and policy checks of accounts.h: names, e-mail
 * addresses, passwords, identity data, amounts, reasons.
 *
 * Passwords follow NIST SP 800-63B rather than composition rules: a
 * minimum length, no maximum below 128, and a refusal of what attackers
 * try first (the most common passwords, the user's own name, one
 * character repeated).  The common list is short on purpose: it catches
 * the guesses that matter online, where logins are throttled anyway
 * (src/server/guard.c).
 *
 * Dates: a date of birth must be a real calendar date (leap years
 * included), not in the future, and at least ACCT_AGE_MIN years before
 * `today`, compared as YYYYMMDD numbers (someone born on 29 February is of
 * age on 1 March in a common year, as in most jurisdictions).
 */
#include "accounts/accounts.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int refuse(acct_err *err, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(acct_err *err, const char *code, const char *field, const char *fmt, ...)
{
    err->code = code;
    snprintf(err->field, sizeof err->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

int acct_check_username(const char *u, acct_err *err)
{
    size_t n = u ? strlen(u) : 0;
    if (!n)
        return refuse(err, "MISSING_FIELD", "username", "a user name is needed");
    if (n < 3 || n > BOURSE_NAME_LEN)
        return refuse(err, "BAD_FIELD", "username", "a user name has 3 to %d characters", BOURSE_NAME_LEN);
    if (!isalpha((unsigned char)u[0]))
        return refuse(err, "BAD_FIELD", "username", "a user name starts with a letter");
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)u[i]) && u[i] != '_' && u[i] != '-')
            return refuse(err, "BAD_FIELD", "username",
                          "a user name has only letters, digits, '_' and '-' (no spaces)");
    if (strcasecmp(u, "FEES") == 0)
        return refuse(err, "BAD_FIELD", "username", "FEES is the venue's fee account");
    static const char *const reserved[] = {"list",    "show",   "signup", "kyc",
                                           "suspend", "resume", "close",  "operator"};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(u, reserved[i]) == 0)
            return refuse(err, "BAD_FIELD", "username", "that name is reserved; choose another");
    return 0;
}

static int local_char(char c)
{
    return isalnum((unsigned char)c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

int acct_check_email(const char *e, acct_err *err)
{
    size_t n = e ? strlen(e) : 0;
    if (!n)
        return refuse(err, "MISSING_FIELD", "email", "an e-mail address is needed");
    const char *at = strchr(e, '@');
    if (n > BOURSE_ACCOUNT_EMAIL_MAX || !at || strchr(at + 1, '@'))
        return refuse(err, "BAD_FIELD", "email", "not an e-mail address (name@example.com)");
    size_t local = (size_t)(at - e);
    if (local < 1 || local > 64 || e[0] == '.' || at[-1] == '.')
        return refuse(err, "BAD_FIELD", "email", "the part before '@' is not valid");
    for (size_t i = 0; i < local; i++)
        if (!local_char(e[i]) || (e[i] == '.' && e[i + 1] == '.'))
            return refuse(err, "BAD_FIELD", "email",
                          "the part before '@' has a character that is not allowed");
    const char *d = at + 1, *label = d;
    int labels = 0, tld_alpha = 1;
    for (const char *p = d;; p++) {
        if (*p == '.' || !*p) {
            size_t len = (size_t)(p - label);
            if (len < 1 || len > 63 || label[0] == '-' || p[-1] == '-')
                return refuse(err, "BAD_FIELD", "email", "the domain after '@' is not valid");
            labels++;
            tld_alpha = len >= 2;
            for (const char *q = label; q < p; q++)
                tld_alpha &= isalpha((unsigned char)*q) != 0;
            if (!*p)
                break;
            label = p + 1;
        } else if (!isalnum((unsigned char)*p) && *p != '-')
            return refuse(err, "BAD_FIELD", "email",
                          "the domain after '@' has a character that is not allowed");
    }
    if (labels < 2 || !tld_alpha)
        return refuse(err, "BAD_FIELD", "email",
                      "the domain after '@' needs a top-level domain (example.com)");
    return 0;
}

static const char *const common[] = {
    "123456789",  "1234567890", "12345678910", "password",    "password1",     "password12",  "password123",
    "passw0rd",   "qwerty",     "qwertyuiop",  "qwerty123",   "qwerty1234",    "1q2w3e4r5t",  "1qaz2wsx3edc",
    "iloveyou",   "iloveyou1",  "abc123456",   "abcdefghij",  "letmein123",    "welcome123",  "welcome1",
    "football",   "baseball",   "sunshine",    "princess",    "dragon123",     "monkey123",   "trustno1",
    "superman",   "starwars",   "whatever",    "0987654321",  "987654321",     "11111111111", "000000000",
    "asdfghjkl",  "zxcvbnm123", "changeme",    "changeme123", "administrator", "admin12345",  "letmein",
    "master1234", "login12345", "secret1234",  "michael1",    "charlie1",      "shadow123",   "password!",
    "p@ssw0rd",   "p@ssword1",  "bourse1234",  "exchange1",   "trading123",    "stockmarket", "123123123",
};

int acct_check_password(const char *pw, const char *user, acct_err *err)
{
    size_t n = pw ? strlen(pw) : 0;
    if (!n)
        return refuse(err, "MISSING_FIELD", "password", "a password is needed");
    if (n < ACCT_PASSWORD_MIN)
        return refuse(err, "BAD_FIELD", "password", "the password is too short: at least %d characters",
                      ACCT_PASSWORD_MIN);
    if (n > ACCT_PASSWORD_MAX)
        return refuse(err, "BAD_FIELD", "password", "the password is too long: at most %d bytes",
                      ACCT_PASSWORD_MAX);
    size_t same = 1;
    while (same < n && pw[same] == pw[0])
        same++;
    if (same == n)
        return refuse(err, "BAD_FIELD", "password", "the password is one character repeated");
    if (user && *user) {
        size_t un = strlen(user);
        for (size_t i = 0; i + un <= n; i++)
            if (strncasecmp(pw + i, user, un) == 0)
                return refuse(err, "BAD_FIELD", "password", "the password contains the user name");
    }
    for (size_t i = 0; i < sizeof common / sizeof *common; i++)
        if (strcasecmp(pw, common[i]) == 0)
            return refuse(err, "BAD_FIELD", "password", "the password is one of the most common ones");
    return 0;
}

/* ISO 3166-1 alpha-2, the officially assigned codes. */
static const char countries[] = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ "
                                "BL BM BN BO BQ BR BS BT BV BW "
                                "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
                                "DO DZ EC EE EG EH ER ES ET FI "
                                "FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK "
                                "HM HN HR HT HU ID IE IL IM IN "
                                "IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK "
                                "LR LS LT LU LV LY MA MC MD ME "
                                "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI "
                                "NL NO NP NR NU NZ OM PA PE PF "
                                "PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI "
                                "SJ SK SL SM SN SO SR SS ST SV "
                                "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ "
                                "VA VC VE VG VI VN VU WF WS YE "
                                "YT ZA ZM ZW";

int acct_country_known(const char *c)
{
    if (!c || strlen(c) != 2 || !isupper((unsigned char)c[0]) || !isupper((unsigned char)c[1]))
        return 0;
    for (const char *p = countries; *p; p += p[2] ? 3 : 2)
        if (p[0] == c[0] && p[1] == c[1])
            return 1;
    return 0;
}

/* Well-formed UTF-8 without control characters: 1, else 0. */
static int printable_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int more = c < 0x80             ? 0
                   : (c & 0xe0) == 0xc0 ? 1
                   : (c & 0xf0) == 0xe0 ? 2
                   : (c & 0xf8) == 0xf0 ? 3
                                        : -1;
        if (more < 0 || (more == 0 && (c < 0x20 || c == 0x7f)) || (more == 1 && c < 0xc2) || (c > 0xf4))
            return 0;
        for (int i = 1; i <= more; i++)
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        p += 1 + more;
    }
    return 1;
}

static int days_in(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d[m - 1] + (m == 2 && leap);
}

int acct_check_kyc(const char *legal_name, const char *dob, const char *country, const char *id_number,
                   uint32_t today, acct_err *err)
{
    size_t n = legal_name ? strlen(legal_name) : 0;
    if (!n)
        return refuse(err, "MISSING_FIELD", "legal_name", "the legal name is needed");
    if (n < 2 || n > BOURSE_ACCOUNT_LEGAL_MAX || !printable_utf8(legal_name) || legal_name[0] == ' ' ||
        legal_name[n - 1] == ' ')
        return refuse(err, "BAD_FIELD", "legal_name",
                      "the legal name has 2 to %d characters of printable text, without leading or trailing "
                      "spaces",
                      BOURSE_ACCOUNT_LEGAL_MAX);
    if (!dob || !*dob)
        return refuse(err, "MISSING_FIELD", "date_of_birth", "the date of birth is needed");
    int y, m, d, used = 0;
    if (strlen(dob) != 10 || sscanf(dob, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 ||
        dob[4] != '-' || !isdigit((unsigned char)dob[5]) || !isdigit((unsigned char)dob[8]) || y < 1900 ||
        m < 1 || m > 12 || d < 1 || d > days_in(y, m))
        return refuse(err, "BAD_FIELD", "date_of_birth", "the date of birth is no date (YYYY-MM-DD)");
    uint32_t born = (uint32_t)(y * 10000 + m * 100 + d);
    if (born > today)
        return refuse(err, "BAD_FIELD", "date_of_birth", "the date of birth is in the future");
    if (born + ACCT_AGE_MIN * 10000u > today)
        return refuse(err, "BAD_FIELD", "date_of_birth", "account holders must be at least %d years old",
                      ACCT_AGE_MIN);
    if (!country || !*country)
        return refuse(err, "MISSING_FIELD", "country", "the country is needed");
    if (!acct_country_known(country))
        return refuse(err, "BAD_FIELD", "country",
                      "not an ISO 3166 country code (two capital letters, as FR)");
    size_t k = id_number ? strlen(id_number) : 0;
    if (!k)
        return refuse(err, "MISSING_FIELD", "id_number", "the national id or passport number is needed");
    if (k < 4 || k > BOURSE_ACCOUNT_IDNUM_MAX)
        return refuse(err, "BAD_FIELD", "id_number", "the id number has 4 to %d characters",
                      BOURSE_ACCOUNT_IDNUM_MAX);
    for (size_t i = 0; i < k; i++)
        if (!isalnum((unsigned char)id_number[i]) && id_number[i] != '-')
            return refuse(err, "BAD_FIELD", "id_number", "the id number has only letters, digits and '-'");
    return 0;
}

int acct_parse_amount(const char *t, int cash, int64_t *out, acct_err *err)
{
    if (!t || !*t)
        return refuse(err, "MISSING_FIELD", "amount", "an amount is needed");
    int64_t v = 0;
    int decimals = -1;
    for (const char *p = t; *p; p++) {
        if (*p == '.' && decimals < 0 && cash && p != t && p[1]) {
            decimals = 0;
            continue;
        }
        if (!isdigit((unsigned char)*p))
            return refuse(err, "BAD_FIELD", "amount",
                          cash ? "an amount is a decimal number like 1000.25"
                               : "a share amount is a whole number");
        if (decimals >= 0 && ++decimals > 4)
            return refuse(err, "BAD_FIELD", "amount", "an amount has at most 4 decimals");
        if (v > (INT64_MAX - 9) / 10)
            return refuse(err, "BAD_FIELD", "amount", "the amount is too large");
        v = v * 10 + (*p - '0');
    }
    for (int i = decimals < 0 ? 0 : decimals; cash && i < 4; i++) {
        if (v > INT64_MAX / 10)
            return refuse(err, "BAD_FIELD", "amount", "the amount is too large");
        v *= 10;
    }
    if (v <= 0)
        return refuse(err, "BAD_FIELD", "amount", "the amount must be more than zero");
    if (v > (cash ? BOURSE_CASH_MAX : BOURSE_TOTAL_MAX))
        return refuse(err, "BAD_FIELD", "amount", "the amount is too large");
    *out = v;
    return 0;
}

int acct_check_reason(const char *r, acct_err *err)
{
    size_t n = r ? strlen(r) : 0;
    if (!n)
        return refuse(err, "MISSING_FIELD", "reason", "a reason is needed (the user sees it)");
    if (n > BOURSE_ACCOUNT_REASON_MAX || !printable_utf8(r))
        return refuse(err, "BAD_FIELD", "reason", "a reason is 1 to %d bytes of printable text",
                      BOURSE_ACCOUNT_REASON_MAX);
    return 0;
}

int acct_http_status(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {
        {"BAD_FIELD", 400}, {"MISSING_FIELD", 400}, {"BAD_JSON", 400},       {"TOO_LARGE", 413},
        {"CONFLICT", 409},  {"WRONG_STATE", 409},   {"NOT_FOUND", 404},      {"NOT_ACTIVE", 403},
        {"FORBIDDEN", 403}, {"UNAUTHORIZED", 401},  {"UNKNOWN_SYMBOL", 400}, {"CAPACITY", 503},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (code && strcmp(code, map[i].code) == 0)
            return map[i].status;
    return 400;
}

const char *acct_api_code(int e)
{
    return e == BOURSE_AE_WRONG_STATE ? "CONFLICT" : bourse_account_error_name(e);
}

uint32_t acct_today(void)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    return (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}
