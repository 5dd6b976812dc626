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
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int admin_connect(const char *dir)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/admin.sock", dir) >= sizeof a.sun_path) {
        arg_error("admin: data directory path too long");
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        arg_error("admin: cannot connect to %s: %s (is `bourse serve --data %s` running?)", a.sun_path,
                  strerror(errno), dir);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}
