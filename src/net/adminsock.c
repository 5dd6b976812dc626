/*
 * adminsock.c - connect to a running server's admin socket (adminsock.h).
 *
 * The path of a Unix socket is limited (108 bytes on Linux), so a long data
 * directory is refused here with its own message rather than connecting to a
 * truncated path.
 */
#include "net/adminsock.h"
#include "util/args.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_to(const char *dir, int quiet)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/admin.sock", dir) >= sizeof a.sun_path) {
        if (!quiet)
            arg_error("admin: data directory path too long");
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (!quiet)
            arg_error("admin: cannot connect to %s: %s (is `bourse serve --data %s` running?)", a.sun_path,
                      strerror(errno), dir);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int admin_connect(const char *dir)
{
    return connect_to(dir, 0);
}

int admin_connect_quiet(const char *dir)
{
    return connect_to(dir, 1);
}

int admin_question(const char *line, size_t len, char user[17])
{
    char buf[80], w[2][24] = {{0}}, extra[2];
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, line, len);
    buf[len] = 0;
    int n = sscanf(buf, "%23s %23s %1s", w[0], w[1], extra);
    user[0] = 0;
    if (n == 1)
        return !strcmp(w[0], "symbols")    ? ADMIN_Q_SYMBOLS
               : !strcmp(w[0], "users")    ? ADMIN_Q_USERS
               : !strcmp(w[0], "sessions") ? ADMIN_Q_SESSIONS
               : !strcmp(w[0], "metrics")  ? ADMIN_Q_METRICS
                                           : 0;
    if (n != 2 || strlen(w[1]) > 16)
        return 0;
    int q = !strcmp(w[0], "orders") ? ADMIN_Q_ORDERS : !strcmp(w[0], "account") ? ADMIN_Q_ACCOUNT : 0;
    if (q)
        memcpy(user, w[1], strlen(w[1]) + 1);
    return q;
}
