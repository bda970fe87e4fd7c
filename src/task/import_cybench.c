/*
 * import_cybench.c - Cybench: benchmark/COMPETITION/GROUP/TASK/ with
 * metadata/metadata.json {categories, difficulty ("0"-"5"), easy_prompt,
 * hard_prompt, target_host, internet, subtasks [{question, answer,
 * hints}]}, the files in release/ or dist/, and a runnable
 * metadata/solution/solution.sh (docs/IMPORT.md).
 *
 * The flag is the last subtask's answer, the subtasks before it become
 * `answers`, asked one at a time before the flag (Cybench's guided mode,
 * its default; answers_mode: sequential), all together in the first
 * prompt, or not at all (Cybench's unguided mode), as --subtasks says. A task with a target_host runs its
 * servers from the compose file in its directory; without one
 * (start_docker.sh builds images) it is refused as image-not-imported.
 * `internet.necessary` is refused as external-network.
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

static void subtasks(struct imp_task *t, const struct ynode *st,
		     bool ask)
{
	size_t n = st && st->kind == YNODE_SEQ ? st->n : 0;

	for (size_t i = 0; i < n; i++) {
		const struct ynode *s = st->items[i];
		const char *q = task_imp_str(s, "question"), *a = task_imp_str(s, "answer");
		const char *fmt = task_imp_str(s, "answer_format");
		const struct ynode *h = ymap_get(s, "hints");
		struct imp_answer *x;
		if (!q || !a) {
			task_imp_refuse(t, REFUSE_INVALID,
					"subtask %zu needs a "
					"question and an answer",
					i + 1);
			return;
		}
		if (i + 1 == n) {
			t->flag = xstrdup(a);
			break;
		}
		if (!ask || t->n_ans == IMP_MAX_ANSWERS)
			continue;
		x = &t->ans[t->n_ans++];
		/* Cybench shows each subtask's answer format with its question */
		x->question = fmt && *fmt ? xasprintf("%s (answer format: %s)", q, fmt)
					  : xstrdup(q);
		x->answer = xstrdup(a);
		x->hints = xcalloc(1, sizeof(char *));
		for (size_t k = 0; h && h->kind == YNODE_SEQ && k < h->n; k++)
			if (h->items[k]->kind == YNODE_SCALAR)
				task_imp_strv_add(&x->hints, h->items[k]->str);
	}
}

/* "H:MM:SS" or minutes; 0 when absent or unreadable. */
static double solve_minutes(const char *s)
{
	double part[3] = { 0 }, v;
	const char *p = s;
	char *end;
	int n = 0;

	if (!s)
		return 0;
	if (!strchr(s, ':'))
		return num_double(s, 0, 100000, &v) ? v : 0;
	for (; n < 3; n++) {
		unsigned long x = strtoul(p, &end, 10);
		if (end == p || x > 100000)
			return 0;
		part[n] = (double)x;
		if (*end != ':')
			break;
		p = end + 1;
	}
	if (n != 2 || *end)
		return 0;
	return part[0] * 60.0 + part[1] + part[2] / 60.0;
}

/* Without subtasks the flag is metadata/solution/flag.txt. */
static void flag_file(struct imp_task *t, const char *tdir)
{
	char *p = path_join(tdir, "metadata/solution/flag.txt"), *data;
	size_t len;
	struct errmsg e;

	if (task_imp_is_file(p) && file_read(p, 4096, &data, &len, &e) == ERR_OK) {
		while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
			data[--len] = '\0';
		if (len)
			t->flag = data;
		else
			free(data);
	}
	free(p);
}

static void solution(struct imp_task *t, const char *tdir)
{
	static const char wrapper[] =
		"#!/bin/bash\n"
		"# assay import: runs Cybench's metadata/solution/solution.sh\n"
		"cd /opt/assay/solution/cybench && exec bash ./solution.sh\n";
	char *sol = path_join(tdir, "metadata/solution");
	char *sh = path_join(sol, "solution.sh");

	if (task_imp_is_file(sh)) {
		task_imp_file_path(t, sol, "solution/cybench");
		task_imp_file_data(t, wrapper, sizeof(wrapper) - 1, "solution/solve.sh");
		t->solve = xstrdup("solution/solve.sh");
	}
	free(sh);
	free(sol);
}

static void services(struct imp_task *t, const char *tdir, const char *host)
{
	struct ynode *compose = task_imp_compose_file(t, tdir);

	if (!compose) {
		task_imp_refuse(t, REFUSE_IMAGE,
				"target host '%s' is started by "
				"start_docker.sh, which builds its images",
				host);
		return;
	}
	task_imp_compose(t, compose, "");
	ytree_free(compose);
}

/* What became of the subtasks before the last, in metadata. */
static void subtasks_meta(struct imp_task *t, enum import_subtasks mode,
			  const struct ynode *st)
{
	size_t n = st && st->kind == YNODE_SEQ && st->n ? st->n - 1 : 0;
	char *v;

	if (!n || t->refused)
		return;
	if (mode == IMPORT_SUBTASKS_GUIDED)
		v = xasprintf("guided: %zu asked one at a time before the flag",
			      t->n_ans);
	else if (mode == IMPORT_SUBTASKS_TOGETHER)
		v = xasprintf("together: %zu asked in the first prompt (Cybench "
			      "asks them one at a time)", t->n_ans);
	else
		v = xasprintf("unguided: the flag only, %zu not asked", n);
	task_imp_meta(t, "subtasks", v);
	free(v);
}

static void fill(struct imp_task *t, const struct ynode *m, const char *tdir,
		 enum import_subtasks mode)
{
	const struct ynode *cats = ymap_get(m, "categories");
	const char *hard = task_imp_str(m, "hard_prompt"), *easy = task_imp_str(m, "easy_prompt");
	const char *host = task_imp_str(m, "target_host"), *d = task_imp_str(m, "difficulty");
	const char *files[] = { "release", "dist" };
	long v;

	if (!hard && !easy)
		return (void)task_imp_refuse(t, REFUSE_INVALID, "no prompt");
	if (task_imp_str(ymap_get(m, "internet"), "necessary") &&
	    !strcmp(task_imp_str(ymap_get(m, "internet"), "necessary"), "true"))
		return (void)task_imp_refuse(t, REFUSE_EXTERNAL_NETWORK,
					     "the task "
					     "needs the internet");
	t->prompt = xstrdup(hard ? hard : easy);
	t->prompt_hard = xstrdup(hard);
	t->prompt_easy = xstrdup(easy);
	for (size_t i = 0; cats && cats->kind == YNODE_SEQ && i < cats->n; i++)
		if (cats->items[i]->kind == YNODE_SCALAR) {
			if (!t->category)
				t->category = xstrdup(task_imp_category(cats->items[i]->str));
			task_imp_tag(t, cats->items[i]->str);
		}
	if (d && num_long(d, LONG_MIN, LONG_MAX, &v))
		t->difficulty = v < 1 ? 1 : v > 5 ? 5 : (int)v;
	t->minutes = solve_minutes(task_imp_str(m, "first_solve_time"));
	subtasks(t, ymap_get(m, "subtasks"), mode != IMPORT_SUBTASKS_UNGUIDED);
	t->sequential = mode == IMPORT_SUBTASKS_GUIDED && t->n_ans;
	if (!t->flag)
		flag_file(t, tdir);
	for (size_t i = 0; i < 2; i++) {
		char *p = path_join(tdir, files[i]);
		if (task_imp_is_dir(p))
			task_imp_file_path(t, p, "files");
		free(p);
	}
	if (host && *host)
		services(t, tdir, host);
	solution(t, tdir);
	subtasks_meta(t, mode, ymap_get(m, "subtasks"));
}

/* One source task: the same steps as every importer's one() (see
 * import_nyu.c). */
static void one(struct imp_ctx *c, const char *json)
{
	struct imp_task t;
	struct ynode *m = NULL;
	struct errmsg e;
	char *tdir = xstrdup(json), *src, *slash;

	*strrchr(tdir, '/') = '\0';            /* .../metadata */
	if ((slash = strrchr(tdir, '/')))
		*slash = '\0';                 /* the task directory */
	src = xstrdup(task_imp_rel(tdir, c->src));
	task_imp_task_init(&t);
	t.id = xasprintf("cybench-%s", strrchr(tdir, '/') ?
			 strrchr(tdir, '/') + 1 : tdir);
	if (task_imp_load(json, IMP_JSON, &m, &e))
		task_imp_refuse(&t, REFUSE_INVALID, "%s", e.text);
	else
		fill(&t, m, tdir, c->o->subtasks);
	t.author = xstrdup("Cybench");
	task_imp_meta(&t, "source_format", "cybench");
	task_imp_meta(&t, "source_id", *src ? src : tdir);
	task_imp_emit(c, &t, *src ? src : tdir);
	task_imp_task_release(&t);
	ytree_free(m);
	free(tdir);
	free(src);
}

enum err task_import_cybench(struct imp_ctx *c, struct errmsg *e)
{
	char **found = task_imp_find(c->src, "metadata.json");
	size_t n = 0;

	for (size_t i = 0; found[i]; i++) {
		size_t len = strlen(found[i]);
		if (len > 23 && !strcmp(found[i] + len - 23, "/metadata/metadata.json")) {
			one(c, found[i]);
			n++;
		}
	}
	strv_free(found);
	if (!n)
		return err_set(e, ERR_NOTFOUND, "no metadata/metadata.json under "
			       "'%s'", c->src);
	return ERR_OK;
}
