/*
 * import_inspect.c - Inspect Cyber: eval.yaml / eval.yml (and the older
 * ctf-evals-core challenge.yaml) with a docker compose sandbox
 * (docs/IMPORT.md).
 *
 * The compose file's default service is the agent's box, the others are
 * services. Variants `hard` and `easy` become the information levels of
 * one task; every other variant but `solution` becomes a task of its
 * own. The `solution` variant's files (solution/solution.sh by
 * convention) become the reference solution. `files` destinations in the
 * agent's home (/root, /home/USER or relative) go to files/, those of
 * another service under /srv to services/NAME/; any other place is
 * refused, as is a k8s sandbox.
 */
#include "task/import_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct ic_eval {
	const char *yaml;          /* path of the eval file */
	char *base;                /* its directory */
	const struct ynode *root;
	bool legacy;               /* challenge.yaml */
	const char *agent_svc;     /* compose's default service name */
};

static bool safe_rel(const char *p)
{
	return *p && *p != '/' && !strstr(p, "..");
}

/* Where dest (maybe "svc:/path") goes in the task, or NULL (refused). */
static char *placement(struct imp_task *t, const char *dest)
{
	const char *colon = strchr(dest, ':'), *path = colon ? colon + 1 : dest;
	char *svc = colon ? imp_slug(dest, (size_t)(colon - dest)) : NULL;
	char *out = NULL;
	bool agent = !svc || !t->n_svc;

	for (size_t i = 0; svc && i < t->n_svc; i++)
		if (!strcmp(svc, t->svc[i].name))
			agent = false;
	if (svc && agent && t->n_svc)
		agent = true;      /* the default service's own prefix */
	if (!agent && !strncmp(path, "/srv/", 5) && safe_rel(path + 5))
		out = xasprintf("services/%s/%s", svc, path + 5);
	else if (agent && !strncmp(path, "/root/", 6) && safe_rel(path + 6))
		out = xasprintf("files/%s", path + 6);
	else if (agent && !strncmp(path, "/home/", 6) && strchr(path + 6, '/') &&
		 safe_rel(strchr(path + 6, '/') + 1))
		out = xasprintf("files/%s", strchr(path + 6, '/') + 1);
	else if (agent && safe_rel(path))
		out = xasprintf("files/%s", path);
	else
		imp_refuse(t, REFUSE_UNSUPPORTED, "file destination '%s' is "
			   "outside the agent's home and every service's /srv",
			   dest);
	free(svc);
	return out;
}

static void add_files(struct imp_task *t, const struct ic_eval *ev,
		      const struct ynode *files, const char *prefix)
{
	for (size_t i = 0; files && files->kind == YNODE_MAP && i < files->n; i++) {
		const char *dest = files->pairs[i].key->str;
		const char *src = files->pairs[i].val->kind == YNODE_SCALAR ?
				  files->pairs[i].val->str : "";
		char *where = prefix ? xasprintf("%s/%s", prefix,
			strrchr(dest, '/') ? strrchr(dest, '/') + 1 : dest) :
			placement(t, dest);
		char *p = safe_rel(src) ? path_join(ev->base, src) : NULL;
		if (!where)
			return;
		if (p && path_exists(p))
			imp_file_path(t, p, where);
		else if (ev->legacy)          /* literal contents */
			imp_file_data(t, src, strlen(src), where);
		else
			imp_refuse(t, REFUSE_INVALID, "file '%s' for '%s' is "
				   "missing", src, dest);
		free(p);
		free(where);
	}
}

static void sandbox(struct imp_task *t, const struct ic_eval *ev,
		    const struct ynode *variant)
{
	const struct ynode *sb = ymap_get(variant, "sandbox");
	const char *type, *cfg;
	struct ynode *compose = NULL;
	struct errmsg e;
	char *p;

	if (!sb)
		sb = ymap_get(ev->root, "sandbox");
	type = sb && sb->kind == YNODE_SEQ && sb->n ? sb->items[0]->str :
	       imp_str(sb, "type");
	cfg = sb && sb->kind == YNODE_SEQ && sb->n > 1 ? sb->items[1]->str :
	      imp_str(sb, "config");
	if (type && strcmp(type, "docker"))
		return (void)imp_refuse(t, REFUSE_UNSUPPORTED, "sandbox type "
					"'%s' (only docker compose is read)", type);
	if (!cfg)
		cfg = "compose.yaml";
	if (!safe_rel(cfg))
		return (void)imp_refuse(t, REFUSE_INVALID, "sandbox config '%s' "
					"leaves the task", cfg);
	p = path_join(ev->base, cfg);
	if (!imp_is_file(p) && ev->legacy) {
		free(p);
		p = path_join(ev->base, "docker-compose.yaml");
	}
	if (imp_load(p, IMP_YAML, &compose, &e))
		imp_refuse(t, REFUSE_INVALID, "%s", e.text);
	else
		imp_compose(t, compose, NULL);
	ytree_free(compose);
	free(p);
}

static const char *flag_of(const struct ic_eval *ev, const struct ynode *v)
{
	return imp_str(v, "flag") ? imp_str(v, "flag") : imp_str(ev->root, "flag");
}

static char *prompt_of(const struct ic_eval *ev, const struct ynode *v)
{
	const char *p = imp_str(v, "prompt") ? imp_str(v, "prompt") :
			imp_str(ev->root, "prompt");
	const char *hint = imp_str(ymap_get(ev->root, "metadata"),
				   "flag_format_hint");

	if (!p)
		return NULL;
	return hint ? xasprintf("%s\n\n%s", p, hint) : xstrdup(p);
}

static void add_solution(struct imp_task *t, const struct ic_eval *ev)
{
	const struct ynode *sol = ymap_get(ymap_get(ev->root, "variants"),
					   "solution");
	const struct ynode *files = ymap_get(sol, "files");
	const char *script = NULL;
	char *wrapper;

	for (size_t i = 0; files && files->kind == YNODE_MAP && i < files->n; i++) {
		const char *d = files->pairs[i].key->str;
		size_t n = strlen(d);
		if (n > 3 && !strcmp(d + n - 3, ".sh") && !script)
			script = strrchr(d, '/') ? strrchr(d, '/') + 1 : d;
	}
	if (!script || strchr(script, '\'') || !sol)
		return;
	add_files(t, ev, files, "solution/src");
	wrapper = xasprintf("#!/bin/bash\n# assay import: the source's solution "
			    "variant\ncd /opt/assay/solution/src && exec bash "
			    "'./%s'\n", script);
	imp_file_data(t, wrapper, strlen(wrapper), "solution/solve.sh");
	free(wrapper);
	t->solve = xstrdup("solution/solve.sh");
}

static void task(struct imp_ctx *c, const struct ic_eval *ev,
		 const char *vname, const struct ynode *v, const struct ynode *easy,
		 bool alone)
{
	struct imp_task t;
	const char *name = imp_str(ev->root, "name");
	char *src = xasprintf("%s#%s", imp_rel(ev->yaml, c->src), vname);

	imp_task_init(&t);
	t.id = alone ? xstrdup(name) : xasprintf("%s-%s", name, vname);
	t.title = xstrdup(name);
	sandbox(&t, ev, v);
	t.prompt = prompt_of(ev, v);
	if (!strcmp(vname, "hard"))
		t.prompt_hard = prompt_of(ev, v);
	if (easy)
		t.prompt_easy = prompt_of(ev, easy);
	t.flag = xstrdup(flag_of(ev, v));
	add_files(&t, ev, ymap_get(ev->root, "files"), NULL);
	add_files(&t, ev, ymap_get(v, "files"), NULL);
	if (t.prompt && !t.refused)
		add_solution(&t, ev);
	t.category = xstrdup(imp_category(imp_str(ymap_get(ev->root,
				"metadata"), "category")));
	t.author = xstrdup("Inspect Cyber");
	imp_meta(&t, "source_format", ev->legacy ? "ctf-evals-core" :
		 "inspect-cyber");
	imp_meta(&t, "source_id", name);
	imp_meta(&t, "variant", vname);
	imp_emit(c, &t, src);
	imp_task_release(&t);
	free(src);
}

static void variants(struct imp_ctx *c, const struct ic_eval *ev)
{
	const struct ynode *vs = ymap_get(ev->root, "variants");
	const struct ynode *hard = ymap_get(vs, "hard"), *easy = ymap_get(vs, "easy");
	size_t others = 0;

	for (size_t i = 0; vs && vs->kind == YNODE_MAP && i < vs->n; i++) {
		const char *k = vs->pairs[i].key->str;
		others += strcmp(k, "hard") && strcmp(k, "easy") &&
			  strcmp(k, "solution");
	}
	if (hard || easy)
		task(c, ev, hard ? "hard" : "easy", hard ? hard : easy,
		     hard ? easy : NULL, true);
	for (size_t i = 0; vs && vs->kind == YNODE_MAP && i < vs->n; i++) {
		const char *k = vs->pairs[i].key->str;
		if (strcmp(k, "hard") && strcmp(k, "easy") && strcmp(k, "solution"))
			task(c, ev, k, vs->pairs[i].val, NULL,
			     !hard && !easy && others == 1);
	}
}

static void one(struct imp_ctx *c, const char *yaml, bool legacy)
{
	struct ynode *root = NULL;
	struct ic_eval ev = { .yaml = yaml, .legacy = legacy };
	struct errmsg e;
	struct imp_task t;

	ev.base = xstrdup(yaml);
	*strrchr(ev.base, '/') = '\0';
	if (imp_load(yaml, IMP_YAML, &root, &e) == ERR_OK && imp_str(root, "name") &&
	    ymap_get(root, "variants") && ymap_get(root, "variants")->kind ==
	    YNODE_MAP && ymap_get(root, "variants")->n) {
		ev.root = root;
		variants(c, &ev);
	} else {
		imp_task_init(&t);
		t.id = xstrdup(imp_str(root, "name") ? imp_str(root, "name") : "?");
		imp_refuse(&t, REFUSE_INVALID, "%s", root ? "an eval needs a name "
			   "and at least one variant" : e.text);
		imp_emit(c, &t, yaml);
		imp_task_release(&t);
	}
	ytree_free(root);
	free(ev.base);
}

enum err import_inspect_cyber(struct imp_ctx *c, struct errmsg *e)
{
	static const char *const names[] = { "eval.yaml", "eval.yml",
					     "challenge.yaml", NULL };
	size_t n = 0;

	for (size_t k = 0; names[k]; k++) {
		char **found = imp_find(c->src, names[k]);
		for (size_t i = 0; found[i]; i++, n++)
			one(c, found[i], k == 2);
		strv_free(found);
	}
	if (!n)
		return err_set(e, ERR_NOTFOUND, "no eval.yaml, eval.yml or "
			       "challenge.yaml under '%s'", c->src);
	return ERR_OK;
}
