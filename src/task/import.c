/*
 * import.c - `assay import`: the format table, the output directory and
 * the suite.yaml listing every task that imported.
 */
#include "task/import_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/banned.h"

static const struct {
	const char *name;
	enum err (*run)(struct imp_ctx *c, struct errmsg *e);
} formats[IMPORT__COUNT] = {
	[IMPORT_INSPECT_CYBER] = { "inspect-cyber", task_import_inspect_cyber },
	[IMPORT_CYBENCH] = { "cybench", task_import_cybench },
	[IMPORT_INTERCODE] = { "intercode", task_import_intercode },
	[IMPORT_NYU_CTF] = { "nyu-ctf", task_import_nyu_ctf },
	[IMPORT_HARBOR] = { "harbor", task_import_harbor },
};

bool task_import_format_parse(const char *name, enum import_format *out)
{
	for (int i = 0; i < IMPORT__COUNT; i++)
		if (!strcmp(name, formats[i].name)) {
			*out = (enum import_format)i;
			return true;
		}
	return false;
}

const char *task_import_format_name(enum import_format f)
{
	return (unsigned)f < IMPORT__COUNT ? formats[f].name : "?";
}

bool task_import_subtasks_parse(const char *name, enum import_subtasks *out)
{
	static const char *const names[] = {
		[IMPORT_SUBTASKS_GUIDED] = "guided",
		[IMPORT_SUBTASKS_UNGUIDED] = "unguided",
		[IMPORT_SUBTASKS_TOGETHER] = "together",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (name && !strcmp(name, names[i])) {
			*out = (enum import_subtasks)i;
			return true;
		}
	return false;
}

static bool dir_empty(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *d;
	bool empty = true;

	if (!dp)
		return false;
	while (empty && (d = readdir(dp)))
		empty = !strcmp(d->d_name, ".") || !strcmp(d->d_name, "..");
	closedir(dp);
	return empty;
}

static enum err write_suite(const struct imp_ctx *c, enum import_format f,
			    struct errmsg *e)
{
	struct buf b;
	char *path = path_join(c->dir, "suite.yaml");
	enum err rc;

	buf_init(&b, (size_t)16 << 20);
	rc = buf_printf(&b, "# Written by assay import %s (docs/IMPORT.md).\n"
			"id: imported-%s\nversion: \"1\"\ntasks:\n",
			formats[f].name, formats[f].name);
	for (size_t i = 0; rc == ERR_OK && i < c->n_written; i++)
		rc = buf_printf(&b, "  - %s\n", c->written[i]);
	if (rc == ERR_OK && !c->n_written)
		rc = buf_adds(&b, "  []\n");
	if (rc == ERR_OK)
		rc = file_write_atomic(path, b.data, b.len, 0644, e);
	else
		rc = err_set(e, ERR_LIMIT, "suite.yaml: too many tasks");
	buf_release(&b);
	free(path);
	return rc;
}

enum err task_import_run(enum import_format f, const char *src, const char *dir,
			 const struct import_opts *o, struct import_result *res,
			 struct errmsg *e)
{
	struct imp_ctx c = { .src = src, .dir = dir, .o = o, .res = res };
	enum err rc;

	memset(res, 0, sizeof(*res));
	if ((unsigned)f >= IMPORT__COUNT)
		return err_set(e, ERR_INVAL, "unknown import format");
	if (!path_exists(src))
		return err_set(e, ERR_NOTFOUND, "'%s' does not exist", src);
	if (path_exists(dir) && !dir_empty(dir))
		return err_set(e, ERR_INVAL, "'%s' is not empty (import writes "
			       "into a new directory)", dir);
	if ((rc = mkdir_p(dir, 0755, e)))
		return rc;
	rc = formats[f].run(&c, e);
	if (rc == ERR_OK)
		rc = write_suite(&c, f, e);
	for (size_t i = 0; i < c.n_written; i++)
		free(c.written[i]);
	free(c.written);
	return rc;
}

void task_import_result_release(struct import_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].id);
		free(r->items[i].source);
		free(r->items[i].why);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}
