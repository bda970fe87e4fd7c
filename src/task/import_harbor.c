/*
 * import_harbor.c - Harbor (Terminal-Bench 2) tasks: TASK/task.toml,
 * instruction.md, environment/ (docker-compose.yaml whose agent service is
 * `main`, or [environment].docker_image), tests/test.sh and an optional
 * solution/solve.sh (docs/IMPORT.md).
 *
 * The verifier becomes the hidden check: check/run.sh copies tests/ to
 * /tests, runs test.sh and passes when /logs/verifier/reward.txt (or the
 * `reward` of reward.json) is at least 1. task.toml is read with the
 * bounded TOML subset parser (import_toml.c). allow_internet = true,
 * GPUs and MCP servers are refused; Harbor's default of internet access
 * is dropped and the task tagged internet-removed.
 */
#include "task/import_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/num.h"
#include "base/banned.h"

static const char verifier[] =
	"#!/bin/bash\n"
	"# assay import: Harbor's verifier (tests/test.sh writes the reward)\n"
	"rm -rf /tests /logs/verifier && mkdir -p /logs/verifier || exit 2\n"
	"cp -r /opt/assay/check/tests /tests || exit 2\n"
	"cd /tests && bash /tests/test.sh > /logs/verifier/test-stdout.txt 2>&1\n"
	"r=$(cat /logs/verifier/reward.txt 2>/dev/null)\n"
	"[ -n \"$r\" ] || r=$(sed -n 's/.*\"reward\"[^0-9.-]*\\([0-9.eE+-]*\\).*/\\1/p' "
	"/logs/verifier/reward.json 2>/dev/null)\n"
	"[ -n \"$r\" ] && awk -v r=\"$r\" 'BEGIN { exit !(r + 0 >= 1) }'\n";

static long num(const struct ynode *m, const char *key)
{
	const char *s = task_imp_str(m, key);
	long v;

	return s && num_long(s, LONG_MIN, LONG_MAX, &v) ? v : 0;
}

static void environment(struct imp_task *t, const struct ynode *env,
			const char *tdir)
{
	const char *allow = task_imp_str(env, "allow_internet"), *img;
	char *p = path_join(tdir, "environment/docker-compose.yaml");
	struct ynode *compose = NULL;
	struct errmsg e;

	if (allow && !strcmp(allow, "true"))
		task_imp_refuse(t, REFUSE_EXTERNAL_NETWORK,
				"allow_internet = true");
	else if (!allow)
		task_imp_tag(t, "internet-removed");
	if (num(env, "gpus") > 0)
		task_imp_refuse(t, REFUSE_UNSUPPORTED, "the task needs GPUs");
	if (ymap_get(env, "mcp_servers"))
		task_imp_refuse(t, REFUSE_UNSUPPORTED, "MCP servers");
	if (num(env, "memory_mb") >= 16)
		t->memory_mb = num(env, "memory_mb") > 65536 ? 65536 :
			       (int)num(env, "memory_mb");
	if (task_imp_is_file(p)) {
		if (task_imp_load(p, IMP_YAML, &compose, &e))
			task_imp_refuse(t, REFUSE_INVALID, "%s", e.text);
		else
			task_imp_compose(t, compose, "main");
		ytree_free(compose);
	}
	if (!t->agent_image && (img = task_imp_str(env, "docker_image")))
		t->agent_image = xstrdup(img);
	if (!t->agent_image)
		t->agent_image = xstrdup("built-from-environment-dockerfile");
	free(p);
}

static void metadata(struct imp_task *t, const struct ynode *md,
		     const struct ynode *task)
{
	const char *d = task_imp_str(md, "difficulty");
	const struct ynode *kw = ymap_get(task, "keywords");
	const struct ynode *tags = ymap_get(md, "tags");
	double m = 0;

	if (d)
		t->difficulty = !strcmp(d, "easy") ? 2 : !strcmp(d, "medium") ? 3 :
				!strcmp(d, "hard") ? 4 : 0;
	if (!task_imp_str(md, "expert_time_estimate_min") ||
	    !num_double(task_imp_str(md, "expert_time_estimate_min"), 0, 100000, &m))
		m = 0;   /* absent or not a number: the default */
	t->minutes = m;
	t->category = xstrdup(task_imp_category(task_imp_str(md, "category")));
	for (size_t i = 0; kw && kw->kind == YNODE_SEQ && i < kw->n; i++)
		if (kw->items[i]->kind == YNODE_SCALAR)
			task_imp_tag(t, kw->items[i]->str);
	for (size_t i = 0; tags && tags->kind == YNODE_SEQ && i < tags->n; i++)
		if (tags->items[i]->kind == YNODE_SCALAR)
			task_imp_tag(t, tags->items[i]->str);
}

static void fill(struct imp_task *t, const struct ynode *root, const char *tdir)
{
	const struct ynode *task = ymap_get(root, "task");
	const struct ynode *agent = ymap_get(root, "agent");
	char *ins = path_join(tdir, "instruction.md"), *tests, *sol, *data;
	const char *u = task_imp_str(agent, "user");
	struct errmsg e;
	size_t len;

	if (!task_imp_is_file(ins) ||
	    file_read(ins, IMP_DOC_MAX, &data, &len, &e))
		task_imp_refuse(t, REFUSE_INVALID, "no readable instruction.md");
	else
		t->prompt = data;
	free(ins);
	if (task_imp_str(task, "name"))
		t->title = xstrdup(task_imp_str(task, "name"));
	metadata(t, ymap_get(root, "metadata"), task);
	if (num(agent, "timeout_sec") > 0)
		t->wall_s = num(agent, "timeout_sec") > 86400 ? 86400 :
			    (int)num(agent, "timeout_sec");
	environment(t, ymap_get(root, "environment"), tdir);
	if (u && !t->agent_user)
		t->agent_user = xstrdup(strcmp(u, "root") ? "agent" : "root");
	tests = path_join(tdir, "tests/test.sh");
	if (!task_imp_is_file(tests))
		task_imp_refuse(t, REFUSE_INVALID, "no tests/test.sh");
	free(tests);
	tests = path_join(tdir, "tests");
	task_imp_file_path(t, tests, "check/tests");
	task_imp_file_data(t, verifier, sizeof(verifier) - 1, "check/run.sh");
	t->check_run = xcalloc(3, sizeof(char *));
	t->check_run[0] = xstrdup("bash");
	t->check_run[1] = xstrdup("/opt/assay/check/run.sh");
	free(tests);
	sol = path_join(tdir, "solution/solve.sh");
	if (task_imp_is_file(sol)) {
		char *dir = path_join(tdir, "solution");
		task_imp_file_path(t, dir, "solution");
		t->solve = xstrdup("solution/solve.sh");
		free(dir);
	}
	free(sol);
}

/* One source task. Every importer's one() takes the same steps (init, load,
 * its own fields, emit, release) through the task_imp_* helpers; what is
 * left in each is its format's fields, so they look alike by design. */
static void one(struct imp_ctx *c, const char *toml)
{
	struct imp_task t;
	struct ynode *root = NULL;
	struct errmsg e;
	char *tdir = xstrdup(toml), *src;
	const char *name;

	*strrchr(tdir, '/') = '\0';
	src = xstrdup(task_imp_rel(tdir, c->src));
	task_imp_task_init(&t);
	if (task_imp_load(toml, IMP_TOML, &root, &e))
		task_imp_refuse(&t, REFUSE_INVALID, "%s", e.text);
	name = task_imp_str(ymap_get(root, "task"), "name");
	if (!name)
		name = strrchr(tdir, '/') ? strrchr(tdir, '/') + 1 : tdir;
	t.id = xstrdup(strrchr(name, '/') ? strrchr(name, '/') + 1 : name);
	if (!t.refused)
		fill(&t, root, tdir);
	t.author = xstrdup("Harbor");
	task_imp_meta(&t, "source_format", "harbor");
	task_imp_meta(&t, "source_id", name);
	task_imp_emit(c, &t, *src ? src : tdir);
	task_imp_task_release(&t);
	ytree_free(root);
	free(tdir);
	free(src);
}

enum err task_import_harbor(struct imp_ctx *c, struct errmsg *e)
{
	return task_imp_each(c, "task.toml", one, e);
}
