/*
 * dirlist.c - see dirlist.h.  One readdir pass; the caller's name parser
 * decides which files count, so segments and snapshots share the listing.
 */
#include "dirlist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int dir_number_name(const char *name, const char *prefix, int digits, const char *suffix, uint64_t *number)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    if (strlen(name) != pl + (size_t)digits + sl || strncmp(name, prefix, pl) != 0 ||
        strcmp(name + pl + digits, suffix) != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < digits; i++) {
        char c = name[pl + (size_t)i];
        if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(c - '0');
    }
    *number = v;
    return 1;
}

int dir_list(const char *dir, dir_name_fn wanted, uint64_t **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot open: %s", dir, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t v;
        if (!wanted(de->d_name, &v))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(*out, cap * sizeof *p);
            if (!p) {
                closedir(d);
                free(*out);
                *out = NULL;
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            *out = p;
        }
        (*out)[(*n)++] = v;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_u64);
    return 0;
}

int dir_open(const char *path, int flags, uint64_t *size, char *err, size_t errlen)
{
    int fd = open(path, flags | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}
