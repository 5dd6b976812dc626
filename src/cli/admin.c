/*
 * admin.c - `bourse admin --data DIR [CMD...]`: talk to a running server
 * through DIR/admin.sock, and set order-entry passwords.
 *
 * A command is any line of the replay format; it goes through the
 * server's sequencer and journal like an order, and its events come back
 * in the replay format.  The wire protocol is lines: the client sends a
 * command line, the server answers with its event lines and then a line
 * "." (or "! reason" and "." for a line it could not parse).  Lines are
 * checked here first so a typo is reported with its line number, as
 * `bourse replay` does, and never reaches the server.
 *
 * Questions (`symbols`, `users`, `sessions`, `orders USER`, `account
 * USER`: net/adminsock.h) go the same way; the server answers them from its
 * state without journaling them.
 *
 * `password USER` reads the new password from the first line of standard
 * input and writes its argon2id hash to DIR/passwords (no server needed).
 * USER must exist: the running server is asked (`users`); with none
 * running, the journal is read from its start (journal_replay_prefix).  A
 * password for a user that does not exist would be a login waiting for
 * whoever creates that name later.
 */
#include "accounts/accounts.h"
#include "bourse/text.h"
#include "cli.h"
#include "journal/reader.h"
#include "net/adminsock.h"
#include "server/passwd.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { WINDOW = 512 };

static void help(FILE *f)
{
    fputs("usage: bourse admin [--data DIR] [COMMAND WORDS...]\n"
          "       bourse admin [--data DIR] password USER   (password on stdin)\n"
          "       bourse admin [--data DIR] unlock USER|A.B.C.D\n\n"
          "  --data DIR   the data directory of the server (default ./data, as\n"
          "               `bourse serve`; `make run` uses build/data)\n\n"
          "Sends one command (the words given) or every line of standard input\n"
          "to the server running on DIR, through DIR/admin.sock, and prints the\n"
          "events in the replay format (docs/commands.md).  Commands are\n"
          "journaled like orders.  A malformed line stops the run with\n"
          "`bourse: <stdin>:LINE: reason` and status 2.\n\n"
          "Questions, answered from the server's state and not journaled:\n"
          "`symbols`, `users`, `sessions`, `orders USER` (USER's open orders) and\n"
          "`account USER` (balances and open orders; docs/protocol.md).\n\n"
          "Venue rules: `rules SYM tick=.. lot=.. maxqty=.. maxnotional=.. band=..\n"
          "ref=..`, `fees SYM maker=BPS taker=BPS`, `halt SYM`, `resume SYM`,\n"
          "`block USER` (kill switch: cancels the user's orders), `unblock USER`,\n"
          "`cancelall USER [SYM]`.  Emergency stop of the whole market: `haltall`;\n"
          "`resumeall` undoes it (symbols halted on their own stay halted).\n\n"
          "`password USER` sets USER's order-entry password to the first line\n"
          "of standard input (1-32 printable characters, no spaces), stored\n"
          "as an argon2id hash in DIR/passwords.  USER must exist (`user USER`\n"
          "first); no server need run.\n\n"
          "`unlock NAME` lifts the lock that failed logins put on a user name or\n"
          "an address ([gateway] login_lock_after, login_lock_after_ip) in the\n"
          "server running on DIR.\n",
          f);
}

/* Whether user exists in DIR: 1, 0, or -1 when that cannot be told. */
static int user_in_server(int fd, const char *user)
{
    FILE *rd = fdopen(dup(fd), "r");
    if (!rd || write(fd, "users\n", 6) != 6) {
        if (rd)
            fclose(rd);
        return -1;
    }
    char line[256], want[64];
    snprintf(want, sizeof want, "USER %s", user);
    int found = -1;
    while (fgets(line, sizeof line, rd)) {
        if (!strcmp(line, ".\n")) {
            found = found < 0 ? 0 : found;
            break;
        }
        line[strcspn(line, "\n")] = 0;
        if (found < 1)
            found = !strcmp(line, want) || (!strncmp(line, want, strlen(want)) && line[strlen(want)] == ' ');
    }
    fclose(rd);
    return found;
}

static int user_exists(const char *dir, const char *user, char *why, size_t n)
{
    int fd = admin_connect_quiet(dir);
    if (fd >= 0) {
        int r = user_in_server(fd, user);
        close(fd);
        if (r < 0)
            snprintf(why, n, "the server on %s did not answer `users`", dir);
        return r;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return 0; /* no data directory: no users */
    /* No server: every `user` command the journal holds, from its start. */
    char err[300];
    jreader *r;
    jreader_config rc = {.dir = dir, .from_seq = 1};
    if (jreader_open(&rc, &r, err, sizeof err) != 0) {
        snprintf(why, n, "no server runs on %s and its journal cannot be read (%s)", dir, err);
        return -1;
    }
    bourse_cmd cmd;
    int got = 0, found = 0;
    while (!found && (got = jreader_next(r, &cmd, 0)) == JREAD_RECORD)
        found = cmd.type == BOURSE_CMD_USER && !strncmp(cmd.user_name.s, user, BOURSE_NAME_LEN);
    if (!found && got == JREAD_ERROR)
        snprintf(why, n, "no server runs on %s and its journal does not tell (%s); start the server", dir,
                 jreader_error(r));
    jreader_close(r);
    return found ? 1 : got == JREAD_ERROR ? -1 : 0;
}

static int set_password(const char *dir, const char *user)
{
    char pw[256];
    if (!fgets(pw, sizeof pw, stdin)) {
        cli_error("admin: password: no password on standard input");
        return 2;
    }
    pw[strcspn(pw, "\r\n")] = 0;
    size_t n = strlen(pw);
    int ok = n >= 1 && n <= 32;
    for (size_t i = 0; i < n; i++)
        ok &= pw[i] > 0x20 && pw[i] < 0x7f;
    if (!ok) {
        cli_error("admin: password: 1 to 32 printable characters without spaces");
        return 2;
    }
    if (!passwd_valid_user(user)) {
        cli_error("admin: password: bad user name '%s'", user);
        return 2;
    }
    char why[600];
    int exists = user_exists(dir, user, why, sizeof why);
    if (exists <= 0) {
        memset(pw, 0, sizeof pw);
        if (exists < 0)
            cli_error("admin: password: cannot tell whether user '%s' exists: %s", user, why);
        else
            cli_error("admin: password: no user '%s' in %s (create it first: bourse admin --data %s user %s)",
                      user, dir, dir, user);
        return 1;
    }
    char err[300];
    const char *u[] = {user}, *p[] = {pw};
    int rc = passwd_set(dir, u, p, 1, PASSWD_INTERACTIVE, err, sizeof err);
    memset(pw, 0, sizeof pw);
    if (rc != 0) {
        cli_error("admin: password: %s", err);
        return 1;
    }
    puts("OK");
    return 0;
}

/* Read answers until `count` commands have been answered; print events. */
static int read_answers(FILE *in, int count, FILE *out)
{
    char line[512];
    int rc = 0;
    while (count > 0 && fgets(line, sizeof line, in)) {
        if (!strcmp(line, ".\n")) {
            count--;
        } else if (line[0] == '!') {
            fprintf(stderr, "bourse: server: %s", line + 2);
            rc = 2;
        } else {
            fputs(line, out);
        }
    }
    if (count > 0) {
        cli_error("admin: the server closed the connection");
        return 1;
    }
    return rc;
}

/* An account verb (accounts/adminline.c), checked here like any line; a
 * sign-up without a hash gets the password's (read from the first line of
 * standard input, words only), a KYC naming a file gets the file stored
 * under DIR/kyc/USER/ first and named by its sha256.  Returns
 * BOURSE_TEXT_CMD with the line to send in *send (malloc'd), BOURSE_TEXT_BAD
 * with err, or 0 when the line is no account verb. */
static int account_line(const char *dir, const char *line, size_t len, int from_words, char **send, char *err,
                        size_t errlen)
{
    acct_line l;
    acct_err e;
    int r = acct_line_parse(line, len, acct_today(), &l, &e);
    if (r == ACCT_LINE_NONE)
        return 0;
    if (r == ACCT_LINE_BAD) {
        snprintf(err, errlen, "%s", e.message);
        return BOURSE_TEXT_BAD;
    }
    *send = NULL;
    if (r == ACCT_LINE_CMD && l.needs_password) {
        char pw[256];
        if (!from_words || !fgets(pw, sizeof pw, stdin)) {
            snprintf(err, errlen,
                     "account signup: the password is read from the first line of standard input "
                     "(give the command as words)");
            return BOURSE_TEXT_BAD;
        }
        pw[strcspn(pw, "\r\n")] = 0;
        int bad = acct_check_password(pw, l.cmd.user, &e) || acct_hash_password(pw, 0, l.cmd.hash);
        sodium_memzero(pw, sizeof pw);
        if (bad) {
            snprintf(err, errlen, "%s", e.code ? e.message : "cannot hash the password");
            return BOURSE_TEXT_BAD;
        }
    }
    if (r == ACCT_LINE_CMD && l.doc_file[0]) {
        FILE *f = fopen(l.doc_file, "rb");
        unsigned char *buf = malloc(ACCT_DOC_MAX + 1);
        size_t n = f && buf ? fread(buf, 1, ACCT_DOC_MAX + 1, f) : 0;
        if (f)
            fclose(f);
        acct_doc d;
        if (!f || !buf) {
            snprintf(err, errlen, "account kyc: cannot read %s", l.doc_file);
            free(buf);
            return BOURSE_TEXT_BAD;
        }
        if (acct_doc_check(buf, n, NULL, &d, &e) || acct_doc_store(dir, l.cmd.user, buf, n, &d, &e)) {
            snprintf(err, errlen, "account kyc: %s: %s", l.doc_file, e.message);
            free(buf);
            return BOURSE_TEXT_BAD;
        }
        free(buf);
        memcpy(l.cmd.doc_sha256, d.sha256, sizeof l.cmd.doc_sha256);
        snprintf(l.cmd.doc_type, sizeof l.cmd.doc_type, "%s", acct_doc_type_name(d.type));
        l.cmd.doc_size = d.size;
    }
    char out[1200];
    size_t k = acct_line_format(&l, out, sizeof out);
    if (k && k < sizeof out)
        *send = strdup(out);
    return BOURSE_TEXT_CMD;
}

/* Send lines (argv words joined, or stdin) in windows of WINDOW commands. */
static int run_commands(const char *dir, int fd, char **words, int nwords)
{
    FILE *rd = fdopen(dup(fd), "r"), *wr = fdopen(fd, "w");
    if (!rd || !wr) {
        cli_error("admin: out of memory");
        return 1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int inflight = 0, rc = 0, done = 0;
    while (!done && !rc) {
        ssize_t len;
        if (nwords) {
            size_t total = 1;
            for (int i = 0; i < nwords; i++)
                total += strlen(words[i]) + 1;
            line = malloc(total);
            line[0] = 0;
            for (int i = 0; i < nwords; i++) {
                strcat(line, words[i]);
                if (i + 1 < nwords)
                    strcat(line, " ");
            }
            len = (ssize_t)strlen(line);
            done = 1;
        } else if ((len = getline(&line, &cap, stdin)) < 0) {
            break;
        }
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        bourse_cmd cmd;
        char err[600], quser[17];
        /* `cluster ...` is a cluster node's own request (src/cluster/service.c),
         * not a replay-format command: sent as it is. */
        int raw = !strncmp(line, "cluster", 7) && (!line[7] || line[7] == ' ');
        char *rewritten = NULL;
        int r = raw ? BOURSE_TEXT_CMD
                    : account_line(dir, line, (size_t)len, nwords > 0, &rewritten, err, sizeof err);
        if (!r)
            r = admin_question(line, (size_t)len, quser)
                    ? BOURSE_TEXT_CMD
                    : bourse_text_parse(line, (size_t)len, &cmd, err, sizeof err);
        if (r == BOURSE_TEXT_SKIP)
            continue;
        if (r == BOURSE_TEXT_BAD) {
            fflush(wr);
            rc = read_answers(rd, inflight, stdout);
            fflush(stdout);
            if (nwords)
                cli_error("admin: %s", err);
            else
                cli_error("<stdin>:%zu: %s", lineno, err);
            rc = 2;
            inflight = 0;
            break;
        }
        fprintf(wr, "%s\n", rewritten ? rewritten : line);
        free(rewritten);
        if (++inflight == WINDOW) {
            fflush(wr);
            rc = read_answers(rd, inflight, stdout);
            inflight = 0;
        }
    }
    free(line);
    if (inflight) {
        fflush(wr);
        int r = read_answers(rd, inflight, stdout);
        if (!rc)
            rc = r;
    }
    fclose(wr);
    fclose(rd);
    if (fflush(stdout) != 0 && !rc)
        rc = 1;
    return rc;
}

int cmd_admin(int argc, char **argv)
{
    const char *dir = "data"; /* the server's default [server] data */
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            help(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("admin: unknown option '%s'", argv[i]);
            help(stderr);
            return 2;
        } else {
            break;
        }
    }
    if (i < argc && !strcmp(argv[i], "password")) {
        if (argc - i != 2) {
            cli_error("admin: usage: bourse admin --data DIR password USER");
            return 2;
        }
        return set_password(dir, argv[i + 1]);
    }
    if (i < argc && !strcmp(argv[i], "unlock")) { /* logic: passwd_unlock (src/server/passwd.c) */
        char err[300];
        if (argc - i != 2 || passwd_unlock(dir, argv[i + 1], err, sizeof err) != 0) {
            cli_error("admin: unlock: %s",
                      argc - i != 2 ? "usage: bourse admin --data DIR unlock USER|A.B.C.D" : err);
            return argc - i != 2 ? 2 : 1;
        }
        puts("OK");
        return 0;
    }
    int fd = admin_connect(dir);
    if (fd < 0)
        return 1;
    return run_commands(dir, fd, argv + i, argc - i);
}
