/*
 * cluster.c - `bourse cluster --config FILE --node N --data DIR`: run one
 * node of a replicated exchange (src/cluster, docs/replication.md).
 *
 * The node takes commands on DIR/admin.sock (`bourse admin --data DIR`)
 * and answers each once it is committed on a majority and applied; its
 * journal in DIR is the same as a single server's.  SIGTERM or SIGINT
 * stops it.
 */
#include "cluster/cluster.h"
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static void help(FILE *f)
{
    fputs("usage: bourse cluster --config FILE --node N --data DIR [--join]\n"
          "       bourse cluster --free-ports N\n\n"
          "Runs node N of the cluster that FILE's [cluster] section describes\n"
          "(docs/configuration.md): a Raft replica of the exchange whose journal is\n"
          "in DIR and whose Raft log is in DIR/raft.  Commands go to the leader's\n"
          "DIR/admin.sock (`bourse admin --data DIR ...`), are answered once\n"
          "committed on a majority, and are applied by every node; a follower\n"
          "refuses them and names the leader.  `bourse admin --data DIR cluster`\n"
          "shows the node's role, term, indexes and (on the leader) each node's lag;\n"
          "`cluster transfer [N]` hands leadership over; `cluster add ID ADDR` and\n"
          "`cluster remove ID` change the membership (a new node starts with --join,\n"
          "which bootstraps nothing and waits to be added).  SIGTERM or SIGINT stops it.\n"
          "--free-ports N prints N loopback ports that are free, outside the kernel's\n"
          "ephemeral range so no port-0 bind or outgoing connection takes them before\n"
          "the nodes do (for writing a test cluster's configuration).\n",
          f);
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    time_t t = time(NULL);
    struct tm tm;
    char when[32];
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(stderr, "%s bourse: %s\n", when, line);
}

int cmd_cluster(int argc, char **argv)
{
    const char *config = NULL, *dir = NULL, *node = NULL;
    int join = 0;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--join")) { /* a new node: wait for the leader's `cluster add` */
            join = 1;
            i--;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        }
        if (!strcmp(a, "--free-ports") && v) {
            int ports[CLUSTER_MAX_NODES * 4], n = atoi(v);
            if (cluster_free_ports(n, ports) != 0) {
                cli_error("cluster: --free-ports: 1 to %d ports, and the kernel must have them",
                          CLUSTER_MAX_NODES * 4);
                return 1;
            }
            for (int k = 0; k < n; k++)
                printf("%d%s", ports[k], k + 1 < n ? " " : "\n");
            return 0;
        }
        if (!v || (strcmp(a, "--config") && strcmp(a, "--node") && strcmp(a, "--data"))) {
            cli_error("cluster: %s '%s'", v ? "unknown option" : "option needs a value", a);
            help(stderr);
            return 2;
        }
        *(!strcmp(a, "--config") ? &config : !strcmp(a, "--node") ? &node : &dir) = v;
    }
    if (!config || !dir) {
        cli_error("cluster: --config FILE and --data DIR are required");
        return 2;
    }
    cluster_config cc;
    char err[400];
    cluster_config_defaults(&cc);
    if (cluster_config_load(&cc, config, err, sizeof err) != 0 ||
        (node && cluster_config_set(&cc, "node", node, err, sizeof err) != 0) ||
        cluster_config_check(&cc, err, sizeof err) != 0) {
        cli_error("cluster: %s", err);
        return 2;
    }
    if (!cc.id) {
        cli_error("cluster: no node: give --node N or [cluster] node");
        return 2;
    }
    cc.join = join;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts */
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    cluster_service_config sc = {.cluster = &cc, .data_dir = dir, .stop_fd = sfd, .log = log_line};
    const cluster_peer *me = cluster_peer_of(&cc, cc.id);
    fprintf(stderr, "bourse: cluster: node %llu of %u, Raft on %s, data in %s, admin socket %s/admin.sock\n",
            (unsigned long long)cc.id, cc.n, me->addr, dir, dir);
    if (sfd < 0 || cluster_serve(&sc, err, sizeof err) != 0) {
        cli_error("cluster: %s", sfd < 0 ? "cannot take signals" : err);
        return 1;
    }
    fprintf(stderr, "bourse: cluster: node %llu stopped\n", (unsigned long long)cc.id);
    close(sfd);
    return 0;
}
