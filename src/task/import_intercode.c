/*
 * import_intercode.c - InterCode CTF: ic_ctf.json, a list of records
 * {task_id, query, gold, source, tags, setup?, hint?}, with each task's
 * files in task_assets/TASK_ID/ beside it (docs/IMPORT.md).
 *
 * The record's `gold` is a static flag; InterCode ships a writeup
 * (task_assets/ID/solution/README.md) but no runnable solution, so the
 * tasks are `oracle: none` and the solution directory is never copied to
 * the agent. A query that points at a live host on the internet
 * (picoCTF's servers) is refused as remote-host, a `setup` command as
 * unsupported (external-network when it fetches).
 */
#include "task/import_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* The host of a URL at p (after "://") is on the internet: it has a dot
 * and is not loopback. A service name (no dot) is the task's own. */
static bool remote_url(const char *p)
{
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789.-");
	char host[256];

	snprintf(host, sizeof(host), "%.*s", (int)(n < 255 ? n : 255), p);
	return strchr(host, '.') && strncmp(host, "127.", 4) &&
	       strcmp(host, "localhost");
}

bool imp_mentions_remote(const char *s)
{
	static const char *const tlds[] = { ".net", ".com", ".org", ".io",
		".edu", ".xyz", ".me", ".ctf", ".dev", ".app", NULL };

	for (const char *p = s; (p = strstr(p, "://")); p += 3)
		if (remote_url(p + 3))
			return true;
	for (size_t i = 0; tlds[i]; i++) {
		const char *p = s;
		size_t n = strlen(tlds[i]);
		while ((p = strstr(p, tlds[i]))) {
			char after = p[n];
			if (p > s && (p[-1] >= 'a' && p[-1] <= 'z') &&
			    !(after >= 'a' && after <= 'z'))
				return true;
			p += n;
		}
	}
	return false;
}

static bool fetches(const char *s)
{
	return strstr(s, "wget") || strstr(s, "curl") || strstr(s, "git clone") ||
	       strstr(s, "pip") || strstr(s, "apt");
}

static void add_assets(struct imp_task *t, const char *assets)
{
	DIR *dp = opendir(assets);
	struct dirent *d;

	while (dp && (d = readdir(dp))) {
		char *p, *dest;
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
		    !strcmp(d->d_name, "solution"))
			continue;
		p = path_join(assets, d->d_name);
		dest = path_join("files", d->d_name);
		imp_file_path(t, p, dest);
		free(p);
		free(dest);
	}
	if (dp)
		closedir(dp);
}

static void one(struct imp_ctx *c, const struct ynode *r, const char *base,
		size_t idx)
{
	struct imp_task t;
	const char *id = imp_str(r, "task_id"), *query = imp_str(r, "query");
	const char *gold = imp_str(r, "gold"), *setup = imp_str(r, "setup");
	const char *hint = imp_str(r, "hint");
	const struct ynode *tags = ymap_get(r, "tags");
	char src[64], *assets;

	imp_task_init(&t);
	snprintf(src, sizeof(src), "ic_ctf.json[%zu]", idx);
	t.id = xasprintf("intercode-%s", id ? id : "?");
	if (r->kind != YNODE_MAP || !id || !query || !gold)
		imp_refuse(&t, REFUSE_INVALID, "a record needs task_id, query "
			   "and gold");
	else if (imp_mentions_remote(query))
		imp_refuse(&t, REFUSE_REMOTE_HOST, "the query names a live "
			   "host on the internet");
	else if (setup)
		imp_refuse(&t, fetches(setup) ? REFUSE_EXTERNAL_NETWORK :
			   REFUSE_UNSUPPORTED, "setup command '%.80s'", setup);
	if (!t.refused) {
		t.prompt = xstrdup(query);
		if (hint)
			t.prompt_easy = xasprintf("%s\n\nHint: %s", query, hint);
		t.flag = xstrdup(gold);
		t.author = xstrdup(imp_str(r, "source") ? imp_str(r, "source") :
				   "InterCode");
		for (size_t i = 0; tags && tags->kind == YNODE_SEQ && i < tags->n; i++)
			if (tags->items[i]->kind == YNODE_SCALAR) {
				if (!t.category)
					t.category = xstrdup(imp_category(tags->items[i]->str));
				imp_tag(&t, tags->items[i]->str);
			}
		imp_meta(&t, "source_format", "intercode");
		imp_meta(&t, "source_id", id);
		imp_meta(&t, "source_event", imp_str(r, "source"));
		assets = xasprintf("%s/task_assets/%s", base, id);
		if (!strchr(id, '/') && strcmp(id, "..") && imp_is_dir(assets))
			add_assets(&t, assets);
		free(assets);
	}
	imp_emit(c, &t, src);
	imp_task_release(&t);
}

enum err import_intercode(struct imp_ctx *c, struct errmsg *e)
{
	char *json = imp_is_dir(c->src) ? path_join(c->src, "ic_ctf.json") :
		     xstrdup(c->src);
	char *base = xstrdup(json), *slash = strrchr(base, '/');
	struct ynode *root = NULL;
	enum err rc;

	if (slash)
		*slash = '\0';
	else {
		free(base);
		base = xstrdup(".");
	}
	rc = imp_load(json, IMP_JSON, &root, e);
	if (rc == ERR_OK && root->kind != YNODE_SEQ)
		rc = err_set(e, ERR_PARSE, "%s: must be a list of records", json);
	for (size_t i = 0; rc == ERR_OK && i < root->n; i++)
		one(c, root->items[i], base, i);
	ytree_free(root);
	free(json);
	free(base);
	return rc;
}
