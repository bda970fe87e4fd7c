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
/* The directory of the running executable (/proc/self/exe), or NULL.
 * Caller frees. The one executable-path lookup. */
char *path_exe_dir(void);
/* The one data-file lookup: rel is a path relative to the source tree
 * ("data/prices.yaml", "policies/default.yaml"). The first that exists of
 *   $ASSAY_SOURCE_DIR/rel
 *   EXE_DIR/../rel                 (a build directory inside the tree)
 *   EXE_DIR/../share/assay/rel     (an installed layout)
 *   EXE_DIR/rel
 *   SOURCE/rel                     (the tree this binary was built from)
 * or NULL. Caller frees. */
char *path_data_file(const char *rel);
/* Where the user's data NAME lives ("assay.db", "images"): the value of
 * the environment variable env when it is set and not empty, else
 * $XDG_DATA_HOME/assay/NAME when that is absolute, else
 * $HOME/.local/share/assay/NAME (HOME empty or unset: /root). Caller
 * frees. */
char *path_user_data(const char *env, const char *name);

#endif
