/*
 * task_int.h - helpers shared by the files of the task part only.
 */
#ifndef ASSAY_TASK_INT_H
#define ASSAY_TASK_INT_H

#include "base/ytree.h"
#include "task/task.h"

/* Parsing context: the file name for messages and the error sink. */
struct tctx {
	const char *file;
	struct errmsg *e;
	const struct task_file *mem;   /* in-memory task, or NULL */
	size_t n_mem;
};

enum err task_fail(struct tctx *c, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reject keys of map m that are not in the NULL-terminated list. */
/* Field `name`, a list (YNODE_SEQ) or a map (YNODE_MAP) of at most max
 * entries, `what` naming them in "more than MAX WHAT". An absent or null
 * field is ERR_OK with *none set. */
enum err task_get_coll(struct tctx *c, const struct ynode *n,
		       enum ynode_kind kind, const char *name, size_t max,
		       const char *what, bool *none) MUST_CHECK;
enum err task_check_keys(struct tctx *c, const struct ynode *m, const char *what,
			 const char *const *allowed) MUST_CHECK;
enum err task_get_map(struct tctx *c, const struct ynode *n, const char *what) MUST_CHECK;
enum err task_get_str(struct tctx *c, const struct ynode *m, const char *key,
		      bool required, char **out) MUST_CHECK;
enum err task_get_int(struct tctx *c, const struct ynode *m, const char *key,
		      long lo, long hi, long *out) MUST_CHECK;
enum err task_get_strv(struct tctx *c, const struct ynode *m, const char *key,
		       bool required, char ***out) MUST_CHECK;
/* true/false (unquoted); absent leaves *out. */
enum err task_get_bool(struct tctx *c, const struct ynode *m, const char *key,
		       bool *out) MUST_CHECK;
bool task_valid_name(const char *s, size_t max);

/* Validate a path relative to the task directory: no "..", not absolute,
 * exists (if must_exist), and no symlink on the way. Returns the absolute
 * host path in *abs_out. */
/* The `image` field of m: "host", an image reference, or a directory of
 * the task (absolute path out). */
enum err task_parse_image(struct tctx *c, const struct ynode *m,
			  const char *dir, char **out) MUST_CHECK;
enum err task_path(struct tctx *c, const struct ynode *n, const char *dir,
		   const char *rel, bool must_exist, char **abs_out) MUST_CHECK;
/* abs (from task_path) is a directory of the task. */
bool task_is_dir(const struct tctx *c, const char *abs);
/* Reject any symlink or special file anywhere under dir. */
enum err task_tree_check(struct tctx *c, const char *dir) MUST_CHECK;

enum err task_parse_services(struct tctx *c, const struct ynode *n, struct task *t) MUST_CHECK;
enum err task_parse_flag(struct tctx *c, const struct ynode *n, struct task *t) MUST_CHECK;

#endif
