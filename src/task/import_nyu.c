/*
 * import_nyu.c - NYU CTF Bench: one challenge.json per challenge
 * {name, category, description, flag (a string or {content}), files,
 * box, internal_port, compose, points}, found anywhere under SRC
 * (docs/IMPORT.md).
 *
 * `files` are copied into the agent's home. A challenge with a `box` runs
 * its server from the docker-compose file beside it (the compose subset
 * of import_compose.c); {box} and {port} in the description become the
 * service's name and port. Points map to difficulty (100 per tier).
 * Solutions are not uniformly shipped: every task is `oracle: none`.
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

static const char *flag_of(const struct ynode *r)
{
	const struct ynode *f = ymap_get(r, "flag");

	if (f && f->kind == YNODE_MAP)
		return task_imp_str(f, "content");
	return task_imp_str(r, "flag");
}

static void add_files(struct imp_task *t, const struct ynode *files,
		      const char *dir)
{
	for (size_t i = 0; files && files->kind == YNODE_SEQ && i < files->n; i++) {
		const char *f = files->items[i]->kind == YNODE_SCALAR ?
				files->items[i]->str : "";
		const char *base = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
		char *src, *dest;
		if (!*base || strstr(f, "..") || *f == '/') {
			task_imp_refuse(t, REFUSE_INVALID, "bad file name '%s'",
					f);
			return;
		}
		src = path_join(dir, f);
		dest = path_join("files", base);
		if (!task_imp_is_file(src))
			task_imp_refuse(t, REFUSE_INVALID,
					"file '%s' is missing or "
					"not a regular file",
					f);
		task_imp_file_path(t, src, dest);
		free(src);
		free(dest);
	}
}

static void server(struct imp_task *t, const char *dir, const char *box)
{
	struct ynode *compose = task_imp_compose_file(t, dir);

	if (!compose) {
		task_imp_refuse(t, REFUSE_IMAGE, "server '%s' is built from a "
				"Dockerfile and no compose file names its image", box);
		return;
	}
	task_imp_compose(t, compose, "");
	ytree_free(compose);
}

static void prompt_of(struct imp_task *t, const char *desc, const char *port)
{
	const char *svc = t->n_svc ? t->svc[0].name : "server";
	char *a = task_imp_replace(desc, "{box}", svc);

	t->prompt = task_imp_replace(a, "{port}", port ? port : "");
	free(a);
}

/* One source task. Every importer's one() takes the same steps (init, load,
 * its own fields, emit, release) through the task_imp_* helpers; what is
 * left in each is its format's fields, so they look alike by design. */
static void one(struct imp_ctx *c, const char *json)
{
	struct imp_task t;
	struct ynode *r = NULL;
	struct errmsg e;
	char *dir = xstrdup(json), *src;
	const char *name, *box, *port, *pts;
	long p;

	*strrchr(dir, '/') = '\0';
	src = xstrdup(task_imp_rel(json, c->src));
	task_imp_task_init(&t);
	if (task_imp_load(json, IMP_JSON, &r, &e))
		task_imp_refuse(&t, REFUSE_INVALID, "%s", e.text);
	name = task_imp_str(r, "name");
	t.id = xasprintf("nyu-%s", name ? name : "?");
	if (!t.refused &&
	    (!name || !task_imp_str(r, "description") || !flag_of(r)))
		task_imp_refuse(&t, REFUSE_INVALID,
				"challenge.json needs name, "
				"description and flag");
	box = task_imp_str(r, "box");
	port = task_imp_str(r, "internal_port");
	if (!t.refused) {
		t.title = xstrdup(name);
		t.category =
			xstrdup(task_imp_category(task_imp_str(r, "category")));
		task_imp_tag(&t, task_imp_str(r, "category") ? task_imp_str(r, "category") : "");
		t.flag = xstrdup(flag_of(r));
		t.author = xstrdup("NYU CTF Bench");
		if ((pts = task_imp_str(r, "points")) &&
		    num_long(pts, 1, LONG_MAX, &p))
			t.difficulty = p >= 500 ? 5 : (int)(p + 99) / 100;
		add_files(&t, ymap_get(r, "files"), dir);
		if (box && *box)
			server(&t, dir, box);
		prompt_of(&t, task_imp_str(r, "description"), port);
		if (task_imp_mentions_remote(t.prompt))
			task_imp_refuse(&t, REFUSE_REMOTE_HOST, "the description names "
					"a live host on the internet");
		task_imp_meta(&t, "source_format", "nyu-ctf");
		task_imp_meta(&t, "source_id", name);
		task_imp_meta(&t, "points", pts);
	}
	task_imp_emit(c, &t, src);
	task_imp_task_release(&t);
	ytree_free(r);
	free(dir);
	free(src);
}

enum err task_import_nyu_ctf(struct imp_ctx *c, struct errmsg *e)
{
	return task_imp_each(c, "challenge.json", one, e);
}
