/*
 * plan.c - which (task, epoch) pairs still need an episode, the task
 * snapshot of a run, and the suite digest.
 */
#include "engine/engine_int.h"
#include "engine/plan.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "vault/vault.h"
#include "base/banned.h"

/* Attempts so far of (task, epoch) in the journal. */
static void count(const struct store_episode *eps, size_t n, const char *task,
		  int epoch, int *attempts, bool *complete)
{
	*attempts = 0;
	*complete = false;
	for (size_t i = 0; i < n; i++) {
		if (eps[i].epoch != epoch || strcmp(eps[i].task_id, task))
			continue;
		if (eps[i].attempt > *attempts)
			*attempts = eps[i].attempt;
		if (store_episode_counts(&eps[i]))
			*complete = true;
	}
}

enum err engine_plan_build(const struct engine_config *cfg, struct plan *p,
			   struct errmsg *e)
{
	struct store_episode *eps = NULL;
	size_t n = 0, cap = 0;
	enum err rc;

	memset(p, 0, sizeof(*p));
	rc = store_episode_list(cfg->store, cfg->run_id, &eps, &n, e);
	if (rc)
		return rc;
	/* Epoch-major order: every task's first epoch before any second, so
	 * a run stopped early still covers the suite evenly. */
	for (int ep = 1; ep <= cfg->epochs; ep++) {
		for (size_t t = 0; t < cfg->suite->n_tasks; t++) {
			const struct task *task = cfg->suite->tasks[t];
			int attempts;
			bool complete;
			count(eps, n, task->id, ep, &attempts, &complete);
			/* every unscored pair, whatever its history: the
			 * retry cap is per invocation, so a resume retries
			 * exactly the pairs a run left unscored */
			if (complete)
				continue;
			p->items = xgrow(p->items, &cap, p->n + 1, sizeof(*p->items));
			p->items[p->n].task = task;
			p->items[p->n].epoch = ep;
			p->items[p->n].attempt = attempts + 1;
			p->items[p->n].failures = 0;
			p->n++;
		}
	}
	store_episodes_free(eps, n);
	return ERR_OK;
}

enum err engine_enqueue(const struct engine_config *cfg, int *n_out,
			struct errmsg *e)
{
	struct plan p;
	enum err rc = engine_plan_build(cfg, &p, e);

	*n_out = 0;
	for (size_t i = 0; i < p.n && rc == ERR_OK; i++)
		rc = store_queue_add(cfg->store, cfg->run_id, p.items[i].task->id,
				     p.items[i].epoch, p.items[i].attempt, e);
	if (rc == ERR_OK)
		*n_out = (int)p.n;
	engine_plan_release(&p);
	return rc;
}

void engine_plan_release(struct plan *p)
{
	free(p->items);
	memset(p, 0, sizeof(*p));
}

static char *join_words(char *const *v)
{
	struct buf b;

	buf_init(&b, 1 << 16);
	for (size_t i = 0; v && v[i]; i++)
		if ((i && buf_addch(&b, ' ')) || buf_adds(&b, v[i]))
			break;
	return buf_detach(&b, NULL);
}

enum err engine_snapshot_tasks(struct store *st, int64_t run_id,
			       const struct suite *s, struct errmsg *e)
{
	for (size_t i = 0; i < s->n_tasks; i++) {
		const struct task *t = s->tasks[i];
		char digest[65];
		struct store_task row = { 0 };
		enum err rc = engine_plan_task_digest(t, digest, e);
		if (rc)
			return rc;
		row.task_id = t->id;
		row.category = (char *)task_category_name(t->category);
		row.difficulty = t->difficulty;
		row.expert_minutes = t->expert_minutes;
		row.tags = join_words(t->tags);
		row.attack = join_words(t->attack);
		row.n_answers = (int)t->n_answers;
		row.digest = digest;
		row.limit_tokens = t->limits.tokens;
		rc = store_task_add(st, run_id, &row, e);
		free(row.tags);
		free(row.attack);
		if (rc)
			return rc;
	}
	return ERR_OK;
}

/* Feed "path\0size\0bytes" of every regular file under dir, sorted, into
 * the buffer; the digest of that buffer is the task's content digest. */
static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum err feed_dir(struct buf *b, const char *root, const char *rel,
			 struct errmsg *e)
{
	char *dir = rel[0] ? path_join(root, rel) : xstrdup(root);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	enum err rc = ERR_OK;
	DIR *dp = opendir(dir);

	if (!dp) {
		rc = err_sys(e, ERR_IO, "cannot read '%s'", dir);
		free(dir);
		return rc;
	}
	while ((d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
			names = xgrow(names, &cap, n + 1, sizeof(*names));
			names[n++] = xstrdup(d->d_name);
		}
	closedir(dp);
	if (n)          /* qsort(NULL, 0) is undefined */
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n && rc == ERR_OK; i++) {
		char *r = rel[0] ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		char *full = path_join(root, r);
		char *data;
		size_t len;
		if (is_dir(full))
			rc = feed_dir(b, root, r, e);
		else if ((rc = file_read(full, 256u << 20, &data, &len, e)) == ERR_OK) {
			if (buf_add(b, r, strlen(r) + 1) ||
			    buf_printf(b, "%zu", len) || buf_addch(b, '\0') ||
			    buf_add(b, data, len))
				rc = err_set(e, ERR_LIMIT, "task '%s' is too large "
					     "to digest", root);
			free(data);
		}
		free(full);
		free(r);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	return rc;
}

/* Path order of a directory walk: '/' sorts before every other byte. */
static int cmp_walk(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)
		((const struct task_file *)a)->path;
	const unsigned char *y = (const unsigned char *)
		((const struct task_file *)b)->path;

	for (; *x && *x == *y; x++, y++)
		;
	return (*x == '/' ? 1 : *x + 1) - (*y == '/' ? 1 : *y + 1);
}

static enum err feed_mem(struct buf *b, const struct task *t, struct errmsg *e)
{
	struct task_file *v = xcalloc(t->n_mem + 1, sizeof(*v));
	enum err rc = ERR_OK;

	memcpy(v, t->mem, t->n_mem * sizeof(*v));
	qsort(v, t->n_mem, sizeof(*v), cmp_walk);
	for (size_t i = 0; i < t->n_mem && rc == ERR_OK; i++)
		if (buf_add(b, v[i].path, strlen(v[i].path) + 1) ||
		    buf_printf(b, "%zu", v[i].len) || buf_addch(b, '\0') ||
		    buf_add(b, v[i].data, v[i].len))
			rc = err_set(e, ERR_LIMIT, "task '%s' is too large to "
				     "digest", t->id);
	free(v);
	return rc;
}

/* "image BOX NAME@sha256:HEX\0" per imported image (pinned by
 * engine_images_pin); tasks on host or directory images add nothing,
 * so their digests are as before. */
static enum err feed_images(struct buf *b, const struct task *t,
			    struct errmsg *e)
{
	bool bad = false;

	if (task_image_is_ref(t->agent_image))
		bad |= buf_printf(b, "image agent %s", t->agent_image) ||
		       buf_addch(b, '\0');
	for (size_t i = 0; i < t->n_services; i++)
		if (task_image_is_ref(t->services[i].image))
			bad |= buf_printf(b, "image %s %s", t->services[i].name,
					  t->services[i].image) || buf_addch(b, '\0');
	return bad ? err_set(e, ERR_LIMIT, "task '%s' is too large to digest",
			     t->id) : ERR_OK;
}

enum err engine_plan_task_digest(const struct task *t, char out[65],
				 struct errmsg *e)
{
	struct buf b;
	enum err rc;

	buf_init(&b, 1u << 30);
	rc = t->mem ? feed_mem(&b, t, e) : feed_dir(&b, t->dir, "", e);
	if (rc == ERR_OK)
		rc = feed_images(&b, t, e);
	if (rc == ERR_OK)
		vault_sha256_hex(b.data, b.len, out);
	buf_release(&b);
	return rc;
}

enum err engine_suite_digest(const struct suite *s, char out[65],
			     struct errmsg *e)
{
	struct buf b;
	enum err rc = ERR_OK;

	buf_init(&b, 1 << 24);
	for (size_t i = 0; i < s->n_tasks && rc == ERR_OK; i++) {
		char d[65];
		rc = engine_plan_task_digest(s->tasks[i], d, e);
		if (rc == ERR_OK && (buf_adds(&b, s->tasks[i]->id) ||
				     buf_addch(&b, ' ') || buf_adds(&b, d) ||
				     buf_addch(&b, '\n')))
			rc = err_set(e, ERR_LIMIT, "suite too large to digest");
	}
	if (rc == ERR_OK)
		vault_sha256_hex(b.data, b.len, out);
	buf_release(&b);
	return rc;
}
