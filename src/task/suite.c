/*
 * suite.c - a suite is a task dir, a dir of task dirs, a suite.yaml, or a
 * dir holding a suite.yaml.
 */
#include "task/task.h"

#include <dirent.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "task/task_int.h"
#include "base/banned.h"

#define SUITE_MAX_TASKS 100000

static enum err add_task(struct suite *s, size_t *cap, const char *dir,
			 struct errmsg *e)
{
	struct task *t;
	enum err rc = task_load(dir, &t, e);

	if (rc)
		return rc;
	if (task_suite_find(s, t->id)) {
		rc = err_set(e, ERR_INVAL, "%s/task.yaml:1: duplicate task id "
			     "'%s' in suite", t->dir, t->id);
		task_free(t);
		return rc;
	}
	if (s->n_tasks >= SUITE_MAX_TASKS) {
		task_free(t);
		return err_set(e, ERR_LIMIT, "suite has more than %d tasks",
			       SUITE_MAX_TASKS);
	}
	s->tasks = xgrow(s->tasks, cap, s->n_tasks + 1, sizeof(*s->tasks));
	s->tasks[s->n_tasks++] = t;
	return ERR_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Task dirs directly under dir, sorted so plans are reproducible. */
static enum err load_dir(struct suite *s, const char *dir, struct errmsg *e)
{
	char **names = NULL;
	size_t n = 0, cap = 0, tcap = 0;
	struct dirent *d;
	enum err rc = ERR_OK;
	DIR *dp = opendir(dir);

	if (!dp)
		return err_sys(e, ERR_NOTFOUND, "cannot open suite '%s'", dir);
	while ((d = readdir(dp))) {
		char *sub, *man;
		if (d->d_name[0] == '.')
			continue;
		sub = path_join(dir, d->d_name);
		man = path_join(sub, "task.yaml");
		if (path_exists(man)) {
			names = xgrow(names, &cap, n + 1, sizeof(*names));
			names[n++] = sub;
		} else {
			free(sub);
		}
		free(man);
	}
	closedir(dp);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && rc == ERR_OK; i++)
		rc = add_task(s, &tcap, names[i], e);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == ERR_OK && s->n_tasks == 0)
		rc = err_set(e, ERR_INVAL, "suite '%s' holds no task "
			     "directories", dir);
	return rc;
}

static enum err load_yaml_tasks(struct suite *s, struct tctx *c,
				const struct ynode *list, const char *base)
{
	size_t tcap = 0;
	enum err rc = ERR_OK;

	for (size_t i = 0; i < list->n && rc == ERR_OK; i++) {
		const struct ynode *it = list->items[i];
		char *pat;
		glob_t g;
		if (it->kind != YNODE_SCALAR)
			return task_fail(c, it, "task entries must be strings");
		pat = it->str[0] == '/' ? xstrdup(it->str) : path_join(base, it->str);
		if (glob(pat, 0, NULL, &g) != 0) {
			free(pat);
			return task_fail(c, it, "'%s' matches no task", it->str);
		}
		for (size_t j = 0; j < g.gl_pathc && rc == ERR_OK; j++)
			if (is_dir(g.gl_pathv[j]))
				rc = add_task(s, &tcap, g.gl_pathv[j], c->e);
		globfree(&g);
		free(pat);
	}
	return rc;
}

static enum err load_yaml(struct suite *s, const char *file, struct errmsg *e)
{
	static const char *const keys[] = { "id", "version", "tasks", NULL };
	struct tctx c = { .file = file, .e = e };
	struct ynode *root = NULL;
	const struct ynode *list;
	const char *slash = strrchr(file, '/');
	char *base = slash ? xstrndup(file, (size_t)(slash - file))
			   : xstrdup(".");
	enum err rc;

	rc = ytree_load(file, 1 << 20, &root, e);
	if (rc)
		goto out;
	free(s->id);
	if ((rc = task_get_map(&c, root, "a suite")) ||
	    (rc = task_check_keys(&c, root, "suite", keys)) ||
	    (rc = task_get_str(&c, root, "id", true, &s->id)) ||
	    (rc = task_get_str(&c, root, "version", true, &s->version)))
		goto out;
	list = ymap_get(root, "tasks");
	if (!list || list->kind != YNODE_SEQ || list->n == 0) {
		rc = task_fail(&c, list ? list : root, "'tasks' must be a non-empty "
			       "list of paths or globs");
		goto out;
	}
	rc = load_yaml_tasks(s, &c, list, base);
out:
	ytree_free(root);
	free(base);
	return rc;
}

static char *base_name(const char *path)
{
	char real[PATH_MAX];
	const char *slash;

	if (!realpath(path, real))
		return xstrdup(path);
	slash = strrchr(real, '/');
	return xstrdup(slash && slash[1] ? slash + 1 : real);
}

enum err task_suite_load(const char *path, struct suite **suite_out,
			 struct errmsg *e)
{
	struct suite *s = xcalloc(1, sizeof(*s));
	char *man = path_join(path, "task.yaml");
	char *yaml = path_join(path, "suite.yaml");
	size_t cap = 0;
	enum err rc;

	s->path = xstrdup(path);
	s->id = base_name(path);
	if (!path_exists(path))
		rc = err_set(e, ERR_NOTFOUND, "suite '%s' does not exist", path);
	else if (!is_dir(path))
		rc = load_yaml(s, path, e);
	else if (path_exists(man))
		rc = add_task(s, &cap, path, e);
	else if (path_exists(yaml))
		rc = load_yaml(s, yaml, e);
	else
		rc = load_dir(s, path, e);
	free(man);
	free(yaml);
	if (!s->version)
		s->version = xstrdup("0");
	if (rc) {
		task_suite_free(s);
		return rc;
	}
	*suite_out = s;
	return ERR_OK;
}

void task_suite_free(struct suite *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_tasks; i++)
		task_free(s->tasks[i]);
	free(s->tasks);
	free(s->id);
	free(s->version);
	free(s->path);
	free(s);
}

struct task *task_suite_find(const struct suite *s, const char *id)
{
	for (size_t i = 0; i < s->n_tasks; i++)
		if (!strcmp(s->tasks[i]->id, id))
			return s->tasks[i];
	return NULL;
}
