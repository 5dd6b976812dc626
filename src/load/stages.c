/*
 * stages.c - where the server says its time went, for `bourse load`.
 *
 * The server times each order's path through it (src/server/stages.h) and
 * answers `stages` on the admin socket with one line per stage:
 * "STAGE name count mean p50 p90 p99 p999 max" (ns).  The load starts
 * them over (`stages reset`) after its setup and logins, so they cover the
 * run's orders only, and reads them once every answer is in; the report
 * prints them beside the round trips the client measured, which include
 * them (each stage but `engine`, `write` and `sync`, which are intervals,
 * counts from the gateway's read of the order).
 */
#include "load/load_int.h"
#include "net/adminsock.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Send one line, read the answer up to ".": the lines into l's table
 * (reading) or just to the end (reset).  0, or -1. */
static int ask(load *l, const char *line, int reading)
{
    int fd = admin_connect_quiet(l->dir);
    if (fd < 0)
        return -1;
    FILE *r = fdopen(fd, "r");
    if (!r) {
        close(fd);
        return -1;
    }
    int rc = -1;
    if (write(fd, line, strlen(line)) == (ssize_t)strlen(line)) {
        char buf[512];
        uint32_t n = 0;
        while (fgets(buf, sizeof buf, r)) {
            if (!strcmp(buf, ".\n")) {
                rc = 0;
                break;
            }
            if (!reading || n >= sizeof l->stage / sizeof *l->stage)
                continue;
            if (sscanf(buf, "STAGE %15s %llu %llu %llu %llu %llu %llu %llu", l->stage[n].name,
                       &l->stage[n].count, &l->stage[n].mean, &l->stage[n].p50, &l->stage[n].p90,
                       &l->stage[n].p99, &l->stage[n].p999, &l->stage[n].max) == 8)
                n++;
        }
        if (reading)
            l->nstages = rc == 0 ? n : 0;
    }
    fclose(r);
    return rc;
}

int load_stages_reset(load *l)
{
    return ask(l, "stages reset\n", 0);
}

int load_stages_read(load *l)
{
    return ask(l, "stages\n", 1);
}

void load_stages_report(const load *l, FILE *f, int json)
{
    if (json) {
        fputs("\"server_stages_ns\": {", f);
        for (uint32_t i = 0; i < l->nstages; i++)
            fprintf(
                f,
                "%s\"%s\": {\"count\": %llu, \"mean\": %llu, \"p50\": %llu, \"p90\": %llu, \"p99\": %llu, "
                "\"p999\": %llu, \"max\": %llu}",
                i ? ", " : "", l->stage[i].name, l->stage[i].count, l->stage[i].mean, l->stage[i].p50,
                l->stage[i].p90, l->stage[i].p99, l->stage[i].p999, l->stage[i].max);
        fputc('}', f);
        return;
    }
    if (!l->nstages)
        return;
    fputs("inside the server (since the gateway read the order, by batch means; engine, write, sync: "
          "intervals):\n",
          f);
    for (uint32_t i = 0; i < l->nstages; i++)
        fprintf(f, "  %-20s n=%-9llu mean %7.1f us  p50 %7.1f us  p90 %7.1f us  p99 %7.1f us  max %8.1f us\n",
                l->stage[i].name, l->stage[i].count, (double)l->stage[i].mean / 1e3,
                (double)l->stage[i].p50 / 1e3, (double)l->stage[i].p90 / 1e3, (double)l->stage[i].p99 / 1e3,
                (double)l->stage[i].max / 1e3);
}
