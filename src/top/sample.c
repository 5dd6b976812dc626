/*
 * sample.c - reading the server's metrics for `bourse top` (top.h).
 *
 * The admin socket's `metrics` answers with the same text as GET /metrics,
 * then a line "." (src/server/proto_admin.c).  It is parsed here into a
 * flat list of samples; the view asks for sums by name and label, and for
 * percentiles of a histogram's growth between two readings (the buckets'
 * differences: what happened in that second, not since the start).
 */
#include "net/adminsock.h"
#include "top/top.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { READ_MAX = 64 << 20 };

void top_reading_free(top_reading *r)
{
    free(r->s);
    *r = (top_reading){0};
}

static int add(top_reading *r, const top_sample *s)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 512;
        top_sample *p = realloc(r->s, cap * sizeof *p);
        if (!p)
            return -1;
        r->s = p;
        r->cap = cap;
    }
    r->s[r->n++] = *s;
    return 0;
}

int top_parse(top_reading *r, const char *text, size_t len)
{
    r->n = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (e > p && *p != '#') {
            top_sample s = {0};
            size_t k = strcspn(p, "{ \n");
            if (p + k <= e && k < sizeof s.name) {
                memcpy(s.name, p, k);
                const char *v = p + k;
                if (*v == '{') {
                    /* the closing brace: the last '}' before the value */
                    const char *c = v;
                    for (const char *q = v; q < e; q++)
                        if (*q == '}')
                            c = q;
                    size_t m =
                        (size_t)(c - v - 1) < sizeof s.labels - 1 ? (size_t)(c - v - 1) : sizeof s.labels - 1;
                    memcpy(s.labels, v + 1, m);
                    v = c + 1;
                }
                char num[64];
                size_t m = (size_t)(e - v) < sizeof num - 1 ? (size_t)(e - v) : sizeof num - 1;
                memcpy(num, v, m);
                num[m] = 0;
                char *stop;
                s.v = strtod(num, &stop);
                if (stop != num && add(r, &s) != 0)
                    return -1;
            }
        }
        p = e + 1;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int top_read(top_reading *r, const char *dir, char *err, size_t errlen)
{
    int fd = admin_connect_quiet(dir);
    if (fd < 0) {
        snprintf(err, errlen, "cannot connect to %s/admin.sock: is a server running there?", dir);
        return -1;
    }
    if (write(fd, "metrics\n", 8) != 8) {
        snprintf(err, errlen, "admin socket: %s", strerror(errno));
        close(fd);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int done = 0;
    while (buf && !done) {
        if (len + 4096 > cap) {
            char *b = cap < READ_MAX ? realloc(buf, cap * 2) : NULL;
            if (!b)
                break;
            buf = b;
            cap *= 2;
        }
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 5000) <= 0)
            break;
        ssize_t n = read(fd, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        done = len >= 2 && buf[len - 1] == '\n' &&
               (len == 2 ? buf[0] == '.' : !memcmp(buf + len - 3, "\n.\n", 3));
    }
    close(fd);
    if (!done) {
        snprintf(err, errlen, "no whole answer to `metrics` from %s/admin.sock", dir);
        free(buf);
        return -1;
    }
    r->t = now_s();
    int rc = top_parse(r, buf, len - 2);
    free(buf);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

double top_sum(const top_reading *r, const char *name, const char *has)
{
    double t = 0;
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->s[i].name, name) && (!has || strstr(r->s[i].labels, has)))
            t += r->s[i].v;
    return t;
}

int top_label(const char *labels, const char *key, char *out, size_t n)
{
    size_t k = strlen(key);
    for (const char *p = labels; (p = strstr(p, key)); p++) {
        if ((p != labels && p[-1] != ',') || strncmp(p + k, "=\"", 2))
            continue;
        p += k + 2;
        size_t i = 0;
        while (*p && *p != '"' && i + 1 < n) {
            if (*p == '\\' && p[1])
                p++;
            out[i++] = *p++;
        }
        out[i] = 0;
        return 0;
    }
    return -1;
}

/* The buckets of one histogram: (le, cumulative count) in order. */
typedef struct bucket {
    double le, n;
} bucket;

static int buckets(const top_reading *r, const char *name, const char *has, bucket *b, int max)
{
    char bname[80];
    snprintf(bname, sizeof bname, "%s_bucket", name);
    int nb = 0;
    for (size_t i = 0; i < r->n; i++) {
        const top_sample *s = &r->s[i];
        if (strcmp(s->name, bname) || (has && !strstr(s->labels, has)))
            continue;
        char le[32];
        if (top_label(s->labels, "le", le, sizeof le) != 0)
            continue;
        double x = !strcmp(le, "+Inf") ? 1e300 : strtod(le, NULL);
        int j = 0;
        while (j < nb && b[j].le != x)
            j++;
        if (j == nb) {
            if (nb == max)
                continue;
            b[nb++] = (bucket){x, 0};
        }
        b[j].n += s->v; /* several series (protocols, gateways) summed */
    }
    return nb;
}

double top_quantile(const top_reading *cur, const top_reading *prev, const char *name, const char *has,
                    double q)
{
    bucket c[128], p[128];
    int nc = buckets(cur, name, has, c, 128), np = prev ? buckets(prev, name, has, p, 128) : 0;
    for (int i = 0; i < nc; i++)
        for (int j = 0; j < np; j++)
            if (p[j].le == c[i].le)
                c[i].n -= p[j].n;
    /* the buckets are in increasing le as written; the +Inf one is last */
    double total = nc ? c[nc - 1].n : 0;
    if (total <= 0)
        return -1;
    double want = q * total, below = 0, lo = 0;
    for (int i = 0; i < nc; i++) {
        if (c[i].n >= want) {
            if (c[i].le >= 1e300)
                return lo; /* past the last bound: say the last bound */
            double in = c[i].n - below;
            return in > 0 ? lo + (c[i].le - lo) * (want - below) / in : c[i].le;
        }
        below = c[i].n;
        lo = c[i].le;
    }
    return lo;
}
