/*
 * fsutil.h - small file-system helpers used by several parts.
 */
#ifndef ASSAY_FSUTIL_H
#define ASSAY_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Read a whole regular file, at most max bytes (ERR_LIMIT beyond).
 * *data_out is NUL-terminated and owned by the caller. */
enum err file_read(const char *path, size_t max, char **data_out,
		   size_t *len_out, struct errmsg *e) MUST_CHECK;
/* Write data to path atomically (temp file + fsync + rename). */
enum err file_write_atomic(const char *path, const void *data, size_t len,
			   mode_t mode, struct errmsg *e) MUST_CHECK;
/* mkdir -p with mode for every created component. */
enum err mkdir_p(const char *path, mode_t mode, struct errmsg *e) MUST_CHECK;
/* rm -rf that never follows symlinks and stays on one file system. */
enum err rm_rf(const char *path, struct errmsg *e) MUST_CHECK;
bool path_exists(const char *path);
bool is_dir(const char *path);
/* Join a and b with one '/', caller frees. */
char *path_join(const char *a, const char *b);

#endif
