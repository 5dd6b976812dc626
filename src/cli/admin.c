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
 * `password USER` reads the new password from the first line of standard
 * input and writes its argon2id hash to DIR/passwords (no server needed).
 */
#include "bourse/text.h"
#include "cli.h"
#include "net/adminsock.h"
#include "server/passwd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { WINDOW = 512 };

static void help(FILE *f)
{
    fputs("usage: bourse admin --data DIR [COMMAND WORDS...]\n"
          "       bourse admin --data DIR password USER   (password on stdin)\n"
          "       bourse admin --data DIR unlock USER|A.B.C.D\n\n"
          "Sends one command (the words given) or every line of standard input\n"
          "to the server running on DIR, through DIR/admin.sock, and prints the\n"
          "events in the replay format (docs/commands.md).  Commands are\n"
          "journaled like orders.  A malformed line stops the run with\n"
          "`bourse: <stdin>:LINE: reason` and status 2.\n\n"
          "Venue rules: `rules SYM tick=.. lot=.. maxqty=.. maxnotional=.. band=..\n"
          "ref=..`, `fees SYM maker=BPS taker=BPS`, `halt SYM`, `resume SYM`,\n"
          "`block USER` (kill switch: cancels the user's orders), `unblock USER`,\n"
          "`cancelall USER [SYM]`.  Emergency stop of the whole market: `haltall`;\n"
          "`resumeall` undoes it (symbols halted on their own stay halted).\n\n"
          "`password USER` sets USER's order-entry password to the first line\n"
          "of standard input (1-32 printable characters, no spaces), stored\n"
          "as an argon2id hash in DIR/passwords.\n\n"
          "`unlock NAME` lifts the lock that failed logins put on a user name or\n"
          "an address ([gateway] login_lock_after, login_lock_after_ip) in the\n"
          "server running on DIR.\n",
          f);
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

/* Send lines (argv words joined, or stdin) in windows of WINDOW commands. */
static int run_commands(int fd, char **words, int nwords)
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
        char err[160];
        /* `cluster ...` is a cluster node's own request (src/cluster/service.c),
         * not a replay-format command: sent as it is. */
        int raw = !strncmp(line, "cluster", 7) && (!line[7] || line[7] == ' ');
        int r = raw ? BOURSE_TEXT_CMD : bourse_text_parse(line, (size_t)len, &cmd, err, sizeof err);
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
        fprintf(wr, "%s\n", line);
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
    const char *dir = NULL;
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
    if (!dir) {
        cli_error("admin: --data DIR is required");
        help(stderr);
        return 2;
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
    return run_commands(fd, argv + i, argc - i);
}
