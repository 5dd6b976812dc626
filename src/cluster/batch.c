/*
 * batch.c - what one Raft entry holds: a batch of sequenced commands.
 *
 *     magic "BRB1" (4 bytes)  count:u32  first_seq:u64  count x bourse_cmd
 *
 * The commands are copied as the build lays them out: a bourse_cmd is
 * plain data (no pointers), and every node of a cluster runs the same
 * build, as the replicas of one venue must (they apply the same code to
 * the same log).  A node of another build would refuse the magic of a
 * changed layout; the size check below catches the rest.  Reading copies
 * each command out (the entry's bytes carry no alignment promise).
 */
#include "cluster/cluster.h"

#include <string.h>

enum { HDR = 16 };
static const char magic[4] = {'B', 'R', 'B', '1'};

size_t cluster_batch_size(uint32_t n)
{
    return HDR + (size_t)n * sizeof(bourse_cmd);
}

void cluster_batch_header(uint8_t *out, uint32_t n, uint64_t first_seq)
{
    memcpy(out, magic, 4);
    memcpy(out + 4, &n, 4);
    memcpy(out + 8, &first_seq, 8);
}

void cluster_batch_put(uint8_t *out, uint32_t i, const bourse_cmd *c)
{
    memcpy(out + HDR + (size_t)i * sizeof *c, c, sizeof *c);
}

void cluster_batch_encode(uint8_t *out, const bourse_cmd *cmds, uint32_t n)
{
    cluster_batch_header(out, n, n ? cmds[0].seq : 0);
    memcpy(out + HDR, cmds, (size_t)n * sizeof *cmds);
}

int cluster_batch_count(const uint8_t *buf, size_t len)
{
    uint32_t n;
    if (len < HDR || memcmp(buf, magic, 4))
        return -1;
    memcpy(&n, buf + 4, 4);
    if (n > (1u << 24) || len != cluster_batch_size(n))
        return -1;
    return (int)n;
}

uint64_t cluster_batch_first(const uint8_t *buf)
{
    uint64_t first;
    memcpy(&first, buf + 8, 8);
    return first;
}

void cluster_batch_get(const uint8_t *buf, uint32_t i, bourse_cmd *out)
{
    memcpy(out, buf + HDR + (size_t)i * sizeof *out, sizeof *out);
}
