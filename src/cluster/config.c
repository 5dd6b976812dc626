/*
 * config.c - the [cluster] section (docs/configuration.md).
 *
 *     [cluster]
 *     node  = 1
 *     nodes = 1=127.0.0.1:7001/127.0.0.1:9001, 2=127.0.0.1:7002/127.0.0.1:9002, ...
 *
 * Each node is `ID=RAFTADDR`, optionally `/ORDERADDR`: the address its
 * order-entry port listens on, which a follower names when it refuses an
 * order-entry login ("the leader is at ..."). One file can describe the
 * whole cluster and `bourse serve --node N` picks the node; with no
 * [cluster] section (node = 0) the server is a single server, as before.
 * Keys are checked as they come and the whole once at the end
 * (cluster_config_check), so a typo is an error, never a different
 * cluster.
 */
#include "cluster/cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void cluster_config_defaults(cluster_config *c)
{
    *c = (cluster_config){.election_ms = 300,
                          .heartbeat_ms = 50,
                          .snapshot_threshold = 4096,
                          .snapshot_trailing = 1024,
                          .install_ms = 10000,
                          .fast_failover = 1};
}

static int number(const char *v, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || *v == '-' || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

int cluster_addr_parse(const char *a, struct sockaddr_in *out)
{
    unsigned b[4], port;
    char tail;
    if (sscanf(a, "%u.%u.%u.%u:%u%c", &b[0], &b[1], &b[2], &b[3], &port, &tail) != 5 || b[0] > 255 ||
        b[1] > 255 || b[2] > 255 || b[3] > 255 || port < 1 || port > 65535)
        return -1;
    *out = (struct sockaddr_in){.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3])};
    return 0;
}

/* "A.B.C.D:PORT": a dotted quad and a port, as raft_uv_tcp wants. */
static int addr_ok(const char *a)
{
    struct sockaddr_in sa;
    return cluster_addr_parse(a, &sa) == 0;
}

static int parse_nodes(cluster_config *c, const char *v, char *err, size_t errlen)
{
    c->n = 0;
    const char *p = v;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " \t,");
        char item[2 * CLUSTER_ADDR_MAX + 32];
        if (len >= sizeof item) {
            snprintf(err, errlen, "nodes: '%.*s' is too long", (int)len, p);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = 0;
        p += len;
        if (c->n == CLUSTER_MAX_NODES) {
            snprintf(err, errlen, "nodes: at most %d nodes", CLUSTER_MAX_NODES);
            return -1;
        }
        char *eq = strchr(item, '=');
        unsigned long long id;
        if (!eq) {
            snprintf(err, errlen, "nodes: '%s' is not ID=A.B.C.D:PORT", item);
            return -1;
        }
        *eq = 0;
        if (number(item, 1, 1000000, &id) != 0) {
            snprintf(err, errlen, "nodes: '%s' is not a node id (1 to 1000000)", item);
            return -1;
        }
        char *raft = eq + 1, *serve = strchr(raft, '/');
        if (serve)
            *serve++ = 0;
        if (!addr_ok(raft) || strlen(raft) >= CLUSTER_ADDR_MAX ||
            (serve && (!addr_ok(serve) || strlen(serve) >= CLUSTER_ADDR_MAX))) {
            snprintf(err, errlen, "nodes: node %llu: '%s%s%s' is not A.B.C.D:PORT[/A.B.C.D:PORT]", id, raft,
                     serve ? "/" : "", serve ? serve : "");
            return -1;
        }
        cluster_peer *pe = &c->peers[c->n++];
        pe->id = id;
        snprintf(pe->addr, sizeof pe->addr, "%s", raft);
        snprintf(pe->serve, sizeof pe->serve, "%s", serve ? serve : "");
    }
    return 0;
}

int cluster_config_set(cluster_config *c, const char *key, const char *v, char *err, size_t errlen)
{
    unsigned long long x;
    if (!strcmp(key, "nodes"))
        return parse_nodes(c, v, err, errlen);
    struct {
        const char *name;
        unsigned long long lo, hi;
    } keys[] = {{"node", 0, 1000000},
                {"election_ms", 10, 60000},
                {"heartbeat_ms", 1, 10000},
                {"snapshot_entries", 16, 1u << 30},
                {"snapshot_trailing", 0, 1u << 30},
                {"install_ms", 100, 600000},
                {"fast_failover", 0, 1}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(key, keys[i].name))
            continue;
        if (number(v, keys[i].lo, keys[i].hi, &x) != 0) {
            snprintf(err, errlen, "%s: '%s' is not a number from %llu to %llu", key, v, keys[i].lo,
                     keys[i].hi);
            return -1;
        }
        switch (i) {
        case 0: c->id = x; break;
        case 1: c->election_ms = (unsigned)x; break;
        case 2: c->heartbeat_ms = (unsigned)x; break;
        case 3: c->snapshot_threshold = (unsigned)x; break;
        case 4: c->snapshot_trailing = (unsigned)x; break;
        case 5: c->install_ms = (unsigned)x; break;
        default: c->fast_failover = (int)x; break;
        }
        return 0;
    }
    snprintf(err, errlen, "unknown setting '%s' in section [cluster]", key);
    return -1;
}

const cluster_peer *cluster_peer_of(const cluster_config *c, uint64_t id)
{
    for (unsigned i = 0; i < c->n; i++)
        if (c->peers[i].id == id)
            return &c->peers[i];
    return NULL;
}

int cluster_config_check(const cluster_config *c, char *err, size_t errlen)
{
    if (!c->id)
        return 0;
    if (!c->n) {
        snprintf(err, errlen, "[cluster] node = %llu but no nodes are listed", (unsigned long long)c->id);
        return -1;
    }
    for (unsigned i = 0; i < c->n; i++)
        for (unsigned k = i + 1; k < c->n; k++)
            if (c->peers[i].id == c->peers[k].id || !strcmp(c->peers[i].addr, c->peers[k].addr)) {
                snprintf(err, errlen, "[cluster] nodes %llu and %llu have the same id or address",
                         (unsigned long long)c->peers[i].id, (unsigned long long)c->peers[k].id);
                return -1;
            }
    if (!cluster_peer_of(c, c->id)) {
        snprintf(err, errlen, "[cluster] node %llu is not one of the nodes listed",
                 (unsigned long long)c->id);
        return -1;
    }
    if (c->heartbeat_ms * 2 > c->election_ms) {
        snprintf(err, errlen, "[cluster] heartbeat_ms (%u) must be at most half of election_ms (%u)",
                 c->heartbeat_ms, c->election_ms);
        return -1;
    }
    return 0;
}

typedef struct loading {
    cluster_config *c;
    const char *path;
    char *err;
    size_t errlen;
    int failed;
} loading;

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    loading *l = user;
    if (!strcmp(section, "journal") && !strcmp(name, "segment_mb")) {
        l->c->segment_mb = (unsigned)strtoul(value, NULL, 10); /* `bourse serve` checks its range */
        return 1;
    }
    if (strcmp(section, "cluster") || l->failed)
        return 1; /* the other sections are the server's (config.c of src/server) */
    char why[200];
    if (cluster_config_set(l->c, name, value, why, sizeof why) != 0) {
        snprintf(l->err, l->errlen, "%s: [cluster] %s", l->path, why);
        l->failed = 1;
    }
    return 1;
}

int cluster_config_load(cluster_config *c, const char *path, char *err, size_t errlen)
{
    loading l = {.c = c, .path = path, .err = err, .errlen = errlen};
    int r = ini_parse(path, on_ini, &l);
    if (r < 0) {
        snprintf(err, errlen, "%s: cannot read it", path);
        return -1;
    }
    if (r > 0 && !l.failed) {
        snprintf(err, errlen, "%s: line %d: not INI", path, r);
        return -1;
    }
    return l.failed ? -1 : 0;
}

/* The kernel's ephemeral range (ip_local_port_range): every bind to port 0
 * and every outgoing connection on this machine takes its port from it. */
static void ephemeral_range(unsigned *lo, unsigned *hi)
{
    *lo = 32768;
    *hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (!f)
        return;
    unsigned a, b;
    if (fscanf(f, "%u %u", &a, &b) == 2 && a <= b && b <= 65535) {
        *lo = a;
        *hi = b;
    }
    fclose(f);
}

/* A socket bound to 127.0.0.1:port (0: the kernel picks), without
 * SO_REUSEADDR, so a port anyone holds (even in TIME_WAIT) fails; -1. */
static int hold_port(unsigned port)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* The ports are closed before the nodes bind them, seconds later on a
 * busy machine.  Taken from the ephemeral range, as port 0 gives them,
 * any other process's bind to port 0 or outgoing connection could take
 * one in between (a node then cannot listen: seen in CI).  So they are
 * drawn at random below that range (from FREE_PORTS_LO) or above it,
 * where only a program naming the port binds; each is checked free by
 * binding it, all held at once so all differ.  Where that leaves too few
 * ports (a machine whose ephemeral range is most of them), or none is
 * found, the kernel's choice, as before. */
enum { FREE_PORTS_LO = 20000, FREE_PORTS_TRIES = 200 };

int cluster_free_ports(int n, int *out)
{
    int fds[CLUSTER_MAX_NODES * 4], rc = 0, i;
    if (n < 1 || n > (int)(sizeof fds / sizeof fds[0]))
        return -1;
    unsigned lo, hi;
    ephemeral_range(&lo, &hi);
    unsigned below = lo > FREE_PORTS_LO ? lo - FREE_PORTS_LO : 0, above = 65535 - hi, pool = below + above;
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
    for (i = 0; i < n; i++) {
        fds[i] = -1;
        for (int t = 0; pool >= 1024 && fds[i] < 0 && t < FREE_PORTS_TRIES; t++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL; /* PCG's step: any spread will do */
            unsigned k = (unsigned)((r >> 33) % pool);
            fds[i] = hold_port(k < below ? FREE_PORTS_LO + k : hi + 1 + (k - below));
        }
        if (fds[i] < 0)
            fds[i] = hold_port(0);
        struct sockaddr_in a;
        socklen_t len = sizeof a;
        if (fds[i] < 0 || getsockname(fds[i], (struct sockaddr *)&a, &len) != 0) {
            rc = -1;
            i++;
            break;
        }
        out[i] = ntohs(a.sin_port);
    }
    while (i-- > 0)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}
