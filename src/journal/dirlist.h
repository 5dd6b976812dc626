/*
 * dirlist.h - the numbered files of a data directory (segments, snapshots):
 * listed in ascending order of their number, and opened.
 */
#ifndef BOURSE_JOURNAL_DIRLIST_H
#define BOURSE_JOURNAL_DIRLIST_H

#include <stddef.h>
#include <stdint.h>

/* Returns 1 and the file's number when `name` is one of the wanted files. */
typedef int (*dir_name_fn)(const char *name, uint64_t *number);

/* Whether name is prefix + exactly `digits` decimal digits + suffix (as
 * "snap-%020llu.snap"); 1 and *number if so.  The name parsers' one rule. */
int dir_number_name(const char *name, const char *prefix, int digits, const char *suffix, uint64_t *number);

/* *out (malloc'd, caller frees) gets the sorted numbers; 0, or -1 with err. */
int dir_list(const char *dir, dir_name_fn wanted, uint64_t **out, size_t *n, char *err, size_t errlen);

/* open(path, flags | O_CLOEXEC): the descriptor and *size, or -1 with err set. */
int dir_open(const char *path, int flags, uint64_t *size, char *err, size_t errlen);

#endif
