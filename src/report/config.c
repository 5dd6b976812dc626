/*
 * config.c - the follower's settings in the server's INI file: the
 * `[report]` section (docs/configuration.md).
 *
 * `bourse report follow --config FILE` reads the same file as `bourse
 * serve --config FILE`, so that one file says how a machine runs the
 * exchange and its reporting follower; the server skips the section (the
 * follower is a process of its own, report.h says why) and the follower
 * reads only it.  Keys:
 *   db        the database: a SQLite path or a postgresql:// URL
 *   batch     commands per transaction at most
 *   batch_ms  a transaction is committed this soon at most
 *   cpu       idle | low | normal: its CPU priority beside the server
 *             (follow.c, "Beside the server")
 * An unknown key or a bad value is refused with the file and line, like
 * the server's own settings.  Options on the command line win.
 */
#include "report_int.h"

#include <ini.h>
#include <stdlib.h>
#include <string.h>

typedef struct load_ctx {
    report_follow_config *fc;
    char *db;
    size_t dblen;
    char *err;
    size_t errlen;
    int failed;
} load_ctx;

static int number(const char *v, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || *v == '-' || n < 1 || n > max)
        return -1;
    *out = (uint32_t)n;
    return 0;
}

static int on_ini(void *user, const char *section, const char *name, const char *v)
{
    load_ctx *l = user;
    if (strcmp(section, "report") != 0)
        return 1;
    const char *why = NULL;
    if (!strcmp(name, "db")) {
        if (!*v || strlen(v) >= l->dblen)
            why = "empty or too long";
        else
            snprintf(l->db, l->dblen, "%s", v);
    } else if (!strcmp(name, "batch")) {
        if (number(v, 1000000, &l->fc->batch) != 0)
            why = "not a number from 1 to 1000000";
    } else if (!strcmp(name, "batch_ms")) {
        if (number(v, 3600000, &l->fc->batch_ms) != 0)
            why = "not a number from 1 to 3600000";
    } else if (!strcmp(name, "cpu")) {
        int c = report_cpu_parse(v);
        if (c < 0)
            why = "not idle, low or normal";
        else
            l->fc->cpu = c;
    } else {
        why = "unknown setting";
    }
    if (!why)
        return 1;
    snprintf(l->err, l->errlen, "[report] %s = '%s': %s", name, v, why);
    l->failed = 1;
    return 0;
}

int report_config_load(const char *path, report_follow_config *fc, char *db, size_t dblen, char *err,
                       size_t errlen)
{
    char why[300] = "";
    load_ctx l = {.fc = fc, .db = db, .dblen = dblen, .err = why, .errlen = sizeof why};
    int r = ini_parse(path, on_ini, &l);
    if (r < 0) {
        snprintf(err, errlen, "%s: cannot read it", path);
        return -1;
    }
    if (r > 0) {
        snprintf(err, errlen, "%s:%d: %s", path, r, l.failed ? why : "syntax error");
        return -1;
    }
    return 0;
}
