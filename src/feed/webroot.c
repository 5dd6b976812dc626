/*
 * webroot.c - where the web page (web/index.html) is, for the HTTP port.
 *
 * The server serves the page at / of its WebSocket port.  Looking for
 * `web/` in the working directory only found it when the server was started
 * from the source tree, so the directory is found from the program's own
 * location instead (/proc/self/exe), whatever the working directory:
 *
 *   [server] web_root = DIR   that directory (it must hold index.html);
 *                     = none  no page, WebSocket only;
 *   unset (default)           the first of EXE_DIR/../web (the source tree:
 *                             build/bourse), EXE_DIR/../../web (build/san/
 *                             bourse), EXE_DIR/../share/bourse/web (an
 *                             install under a prefix), ./web (the working
 *                             directory, as before) that holds index.html.
 *
 * The path found is made absolute, so the log line that names it is one an
 * operator can open.
 */
#include "feed/feed.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int holds_page(const char *dir, char *out, size_t n)
{
    char page[PATH_MAX + 16], real[PATH_MAX];
    struct stat st;
    snprintf(page, sizeof page, "%s/index.html", dir);
    if (stat(page, &st) != 0 || !S_ISREG(st.st_mode) || !realpath(dir, real))
        return 0;
    return (size_t)snprintf(out, n, "%s", real) < n;
}

int feed_web_root(const char *configured, char *out, size_t n, char *err, size_t errlen)
{
    if (configured && configured[0]) {
        if (!strcmp(configured, "none"))
            return 0;
        if (holds_page(configured, out, n))
            return 1;
        snprintf(err, errlen, "[server] web_root %s holds no index.html", configured);
        return -1;
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        static const char *const rel[] = {"/../web", "/../../web", "/../share/bourse/web"};
        for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
            char dir[PATH_MAX + 32];
            snprintf(dir, sizeof dir, "%s%s", exe, rel[i]);
            if (holds_page(dir, out, n))
                return 1;
        }
    }
    return holds_page("web", out, n);
}
