/*
 * task_util.c - typed field access on the YAML tree, with FILE:LINE errors.
 */
#include "task/task_int.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/num.h"
#include "base/banned.h"

enum err task_fail(struct tctx *c, const struct ynode *n, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(c->e, ERR_PARSE, "%s:%d: %s", c->file, n ? n->line : 1,
		       msg);
}

enum err task_check_keys(struct tctx *c, const struct ynode *m,
			 const char *what, const char *const *allowed)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct ynode *k = m->pairs[i].key;
		const char *const *a = allowed;
		while (*a && strcmp(*a, k->str))
			a++;
		if (!*a)
			return task_fail(c, k, "unknown field '%s' in %s",
					 k->str, what);
	}
	return ERR_OK;
}

enum err task_get_coll(struct tctx *c, const struct ynode *n,
		       enum ynode_kind kind, const char *name, size_t max,
		       const char *what, bool *none)
{
	*none = !n || yscalar_is_null(n);
	if (*none)
		return ERR_OK;
	if (n->kind != kind)
		return task_fail(c, n, "field '%s' must be a %s", name,
				 kind == YNODE_SEQ ? "list" : "map");
	if (n->n > max)
		return task_fail(c, n, "more than %zu %s", max, what);
	return ERR_OK;
}

enum err task_get_map(struct tctx *c, const struct ynode *n, const char *what)
{
	if (n->kind != YNODE_MAP)
		return task_fail(c, n, "%s must be a mapping, not %s", what,
				 ynode_kind_name(n->kind));
	return ERR_OK;
}

static struct ynode *lookup(const struct ynode *m, const char *key)
{
	struct ynode *v = ymap_get(m, key);
	return yscalar_is_null(v) ? NULL : v;
}

enum err task_get_str(struct tctx *c, const struct ynode *m, const char *key,
		      bool required, char **out)
{
	struct ynode *v = lookup(m, key);

	*out = NULL;
	if (!v)
		return required ? task_fail(c, m, "missing field '%s'", key) : ERR_OK;
	if (v->kind != YNODE_SCALAR)
		return task_fail(c, v, "field '%s' must be a string, not %s",
				 key, ynode_kind_name(v->kind));
	if (strlen(v->str) > 65536)
		return task_fail(c, v, "field '%s' is longer than 65536 bytes", key);
	*out = xstrdup(v->str);
	return ERR_OK;
}

enum err task_get_int(struct tctx *c, const struct ynode *m, const char *key,
		      long lo, long hi, long *out)
{
	struct ynode *v = lookup(m, key);
	long x;

	if (!v)
		return ERR_OK; /* caller set the default */
	if (v->kind != YNODE_SCALAR || v->quoted)
		return task_fail(c, v, "field '%s' must be an integer", key);
	if (!num_long(v->str, LONG_MIN, LONG_MAX, &x))
		return task_fail(c, v, "field '%s' must be an integer, not '%s'",
				 key, v->str);
	if (x < lo || x > hi)
		return task_fail(c, v, "field '%s' is %ld, outside %ld..%ld",
				 key, x, lo, hi);
	*out = x;
	return ERR_OK;
}

enum err task_get_bool(struct tctx *c, const struct ynode *m, const char *key,
		       bool *out)
{
	struct ynode *v = lookup(m, key);

	if (!v)
		return ERR_OK; /* caller set the default */
	if (v->kind != YNODE_SCALAR || v->quoted ||
	    (strcmp(v->str, "true") && strcmp(v->str, "false")))
		return task_fail(c, v, "field '%s' must be true or false", key);
	*out = !strcmp(v->str, "true");
	return ERR_OK;
}

enum err task_get_strv(struct tctx *c, const struct ynode *m, const char *key,
		       bool required, char ***out)
{
	struct ynode *v = lookup(m, key);
	char **r;

	*out = NULL;
	if (!v) {
		if (required)
			return task_fail(c, m, "missing field '%s'", key);
		*out = xcalloc(1, sizeof(char *));
		return ERR_OK;
	}
	if (v->kind != YNODE_SEQ)
		return task_fail(c, v, "field '%s' must be a list, not %s", key,
				 ynode_kind_name(v->kind));
	r = xcalloc(v->n + 1, sizeof(*r));
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i]->kind != YNODE_SCALAR) {
			strv_free(r);
			return task_fail(c, v->items[i],
					 "items of '%s' must be strings", key);
		}
		r[i] = xstrdup(v->items[i]->str);
	}
	*out = r;
	return ERR_OK;
}

bool task_valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* Walk rel component by component with lstat so a symlink anywhere on the
 * way is caught. */
static enum err walk_components(struct tctx *c, const struct ynode *n,
				const char *dir, const char *rel,
				bool must_exist)
{
	char *copy = xstrdup(rel), *save = NULL;
	char *path = xstrdup(dir);
	enum err rc = ERR_OK;

	for (char *p = strtok_r(copy, "/", &save); p;
	     p = strtok_r(NULL, "/", &save)) {
		struct stat st;
		char *next;
		if (!strcmp(p, "..") ) {
			rc = task_fail(c, n,
				       "path '%s' leaves the task directory",
				       rel);
			break;
		}
		next = path_join(path, p);
		free(path);
		path = next;
		if (lstat(path, &st) < 0) {
			if (must_exist)
				rc = task_fail(c, n, "'%s' does not exist", rel);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			rc = task_fail(c, n, "path '%s' goes through a symlink",
				       rel);
			break;
		}
	}
	free(copy);
	free(path);
	return rc;
}

/* 0: absent, 1: a file, 2: a directory (a prefix of some file). */
static int mem_kind(const struct tctx *c, const char *rel)
{
	size_t n = strlen(rel);

	while (n && rel[n - 1] == '/')
		n--;
	for (size_t i = 0; i < c->n_mem; i++) {
		const char *p = c->mem[i].path;
		if (!strncmp(p, rel, n) && p[n] == '\0')
			return 1;
		if (!strncmp(p, rel, n) && p[n] == '/')
			return 2;
	}
	return 0;
}

bool task_is_dir(const struct tctx *c, const char *abs)
{
	return c->mem ? mem_kind(c, abs) == 2 : is_dir(abs);
}

static bool has_dotdot(const char *rel)
{
	size_t n = strlen(rel);

	return !strcmp(rel, "..") || !strncmp(rel, "../", 3) ||
	       strstr(rel, "/../") || (n >= 3 && !strcmp(rel + n - 3, "/.."));
}

enum err task_path(struct tctx *c, const struct ynode *n, const char *dir,
		   const char *rel, bool must_exist, char **abs_out)
{
	enum err rc;

	*abs_out = NULL;
	if (!*rel)
		return task_fail(c, n, "empty path");
	if (rel[0] == '/')
		return task_fail(c, n, "path '%s' is absolute; paths are "
				 "relative to the task directory", rel);
	if (c->mem) {
		if (has_dotdot(rel))
			return task_fail(c, n, "path '%s' leaves the task directory",
					 rel);
		if (must_exist && !mem_kind(c, rel))
			return task_fail(c, n, "'%s' does not exist", rel);
		*abs_out = xstrdup(rel);
		return ERR_OK;
	}
	rc = walk_components(c, n, dir, rel, must_exist);
	if (rc)
		return rc;
	*abs_out = path_join(dir, rel);
	return ERR_OK;
}

static __thread char *bad_path;

static int tree_visit(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_SL || flag == FTW_SLN ||
	    (flag == FTW_F && !S_ISREG(st->st_mode))) {
		bad_path = xstrdup(path);
		return 1;
	}
	return 0;
}

enum err task_tree_check(struct tctx *c, const char *dir)
{
	size_t n = strlen(dir);
	enum err rc;
	int r;

	bad_path = NULL;
	r = nftw(dir, tree_visit, 32, FTW_PHYS);
	if (r < 0)
		return err_sys(c->e, ERR_IO, "cannot walk '%s'", dir);
	if (r == 0)
		return ERR_OK;
	rc = task_fail(c, NULL, "'%s' is a symlink or special file; a task may "
		       "hold only regular files and directories",
		       bad_path + (strncmp(bad_path, dir, n) ? 0 : n + 1));
	free(bad_path);
	bad_path = NULL;
	return rc;
}
