/*
 * members.c - the operator's side of membership changes: the admin lines
 * `cluster add ID RAFTADDR[/ORDERADDR]` and `cluster remove ID`, parsed
 * here and handed to the node's thread (cluster_change, node.c), which
 * runs them through libraft (raft_add, raft_assign, raft_remove).
 *
 * The answer says only that the change was asked: it completes later (a
 * new node must first catch up), and each step is logged on the leader
 * (`membership: ...`) and shown by `cluster`'s `member` lines, on every
 * node, as the Raft configuration has it.  The address is checked as the
 * [cluster] nodes key checks it (config.c), so `cluster add` takes exactly
 * what a configuration file would.
 */
#include "cluster/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cluster_admin_members(cluster_node *n, const char *line, char *out, size_t outlen)
{
    int add = !strncmp(line, "cluster add", 11) && (!line[11] || line[11] == ' ');
    int rem = !strncmp(line, "cluster remove", 14) && (!line[14] || line[14] == ' ');
    if (!add && !rem)
        return 0;
    const char *p = line + (add ? 11 : 14);
    while (*p == ' ')
        p++;
    char id[32] = "", addr[2 * CLUSTER_ADDR_MAX + 2] = "", item[sizeof id + sizeof addr + 2], err[200];
    int k = sscanf(p, "%31s %129s", id, addr);
    if (k < 1 || (add && k < 2) || (rem && k > 1)) {
        snprintf(out, outlen, "! usage: %s\n",
                 add ? "cluster add ID A.B.C.D:PORT[/A.B.C.D:PORT] (its Raft address, then its order entry)"
                     : "cluster remove ID");
        return 1;
    }
    /* One item of [cluster] nodes, checked as the file's are. */
    cluster_config c;
    cluster_config_defaults(&c);
    snprintf(item, sizeof item, "%s=%s", id, add ? addr : "127.0.0.1:1");
    if (cluster_config_set(&c, "nodes", item, err, sizeof err) != 0 || c.n != 1) {
        snprintf(out, outlen, "! cluster %s: %s\n", add ? "add" : "remove", c.n == 1 ? err : "one node");
        return 1;
    }
    if (cluster_change(n, add ? 'a' : 'r', &c.peers[0], err, sizeof err) != 0)
        snprintf(out, outlen, "! cluster %s: %s\n", add ? "add" : "remove", err);
    else if (add)
        snprintf(out, outlen,
                 "OK adding node %llu at %s: it joins as a spare and votes once caught up (see `cluster`)\n",
                 (unsigned long long)c.peers[0].id, c.peers[0].addr);
    else
        snprintf(out, outlen, "OK removing node %llu (see `cluster`)\n", (unsigned long long)c.peers[0].id);
    return 1;
}
