/*
 * rmdir.h - remove a test's temporary directory and all under it.
 *
 * The journal tests each make a directory with mkdtemp and fill it with
 * segments, snapshots and copies; this removes it at the end.  A failure to
 * remove is said but is not a test failure: the directory is under /tmp.
 */
#ifndef BOURSE_TESTS_RMDIR_H
#define BOURSE_TESTS_RMDIR_H

#include <stdio.h>
#include <stdlib.h>

static inline void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
}

#endif
